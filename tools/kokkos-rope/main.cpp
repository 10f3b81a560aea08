// SPDX-License-Identifier: Apache-2.0
// kokkos-rope: inspect a model's RoPE, export cos/sin tables, apply the library's kernels to
// tensors in .npy files, and cross-check execution spaces and builds against each other.
//
// Exit status: 0 success; 1 an error (one line on stderr, no output file left behind);
// 2 a command-line syntax error; 3 crosscheck differences beyond tolerance.
#include "Common.hpp"

#include <KokkosRope/Version.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <new>

namespace {

using namespace KokkosRopeTool;

void add_param_flags(CLI::App* app, ParamOptions& p) {
  // Every flag below in one help group; the subcommand's own flags after it keep the default.
  const std::string previous_group = app->option_defaults()->get_group();
  app->option_defaults()->group("RoPE parameters (flags override --config)");
  app->add_option("--config", p.config, "Hugging Face config.json of the model");
  app->add_option("--head-dim", p.head_dim, "head dimension");
  app->add_option("--rotary-dim", p.rotary_dim, "rotated dimensions (default: head_dim)");
  app->add_option("--partial-rotary-factor", p.partial_rotary_factor, "rotary_dim = int(head_dim * factor)");
  app->add_option("--theta", p.theta, "base (rope_theta)");
  app->add_option("--max-position-embeddings", p.max_position_embeddings, "context of the model");
  app->add_option("--rope-type", p.rope_type, "default, linear, ntk, dynamic, yarn, longrope or llama3");
  app->add_option("--factor", p.factor, "scaling factor");
  app->add_option("--original-max-position-embeddings", p.original_max_position_embeddings,
                  "pretraining context (yarn, longrope, llama3)");
  app->add_option("--low-freq-factor", p.low_freq_factor, "llama3");
  app->add_option("--high-freq-factor", p.high_freq_factor, "llama3");
  app->add_option("--beta-fast", p.beta_fast, "yarn");
  app->add_option("--beta-slow", p.beta_slow, "yarn");
  app->add_option("--mscale", p.mscale, "yarn");
  app->add_option("--mscale-all-dim", p.mscale_all_dim, "yarn");
  app->add_option("--truncate", p.truncate, "yarn: floor/ceil the correction range (true/false)");
  app->add_option("--attention-factor", p.attention_factor, "yarn, longrope: explicit attention factor");
  app->add_option("--short-factor", p.short_factor, "longrope: comma-separated divisors")->delimiter(',');
  app->add_option("--long-factor", p.long_factor, "longrope: comma-separated divisors")->delimiter(',');
  app->add_flag("--interleaved", p.interleaved, "pairs (2i, 2i+1) (GPT-J / Meta) instead of (i, i + d/2)");
  app->add_option("--seq-len", p.seq_len,
                  "sequence length for the kinds that depend on it (dynamic, longrope)");
  app->add_option("--layer-type", p.layer_type,
                  "with --config: the parameters of this layer type (e.g. sliding_attention; `info` lists them)");
  app->add_option("--mrope-section", p.mrope_section,
                  "multimodal RoPE: comma-separated pairs per stream (temporal,height,width)")
      ->delimiter(',');
  app->add_flag("--mrope-interleaved", p.mrope_interleaved, "multimodal RoPE: Qwen3-VL's interleaved pair layout");
  app->option_defaults()->group(previous_group);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kokkos-rope " KOKKOSROPE_VERSION_STRING
               ": rotary position embeddings with KokkosRope (inspect, tabulate, apply, cross-check)",
               "kokkos-rope"};
  app.set_version_flag("--version", std::string("kokkos-rope ") + KOKKOSROPE_VERSION_STRING);
  app.require_subcommand(1);

  ParamOptions info_params, table_params, apply_params;
  InfoOptions info_options;
  TableOptions table_options;
  ApplyOptions apply_options;
  CrosscheckOptions cc_options;

  auto* info = app.add_subcommand(
      "info", "a model's RoPE at a glance: scaling, attention factor, per-pair frequencies and bands");
  add_param_flags(info, info_params);
  info->add_flag("--json", info_options.json, "machine-readable output");

  auto* table = app.add_subcommand(
      "table", "the cos/sin table as .npy [positions, 2, rotary_dim / 2] (attention factor included)");
  add_param_flags(table, table_params);
  table->add_option("--positions", table_options.positions, "START:STOP, or a .npy of int64 positions")
      ->required();
  table->add_option("--precision", table_options.precision, "accurate or hf_compatible")
      ->capture_default_str();
  table->add_option("--dtype", table_options.dtype, "float32 or float64")->capture_default_str();
  table->add_option("--out", table_options.out, "output .npy")->required();

  auto* apply = app.add_subcommand("apply", "the library's rotation on q/k tensors from .npy files");
  add_param_flags(apply, apply_params);
  apply
      ->add_option("--q", apply_options.q,
                   "query tensor .npy (float32, float64, float16; bfloat16 as uint16 with --bf16)")
      ->required();
  apply->add_option("--k", apply_options.k, "key tensor .npy (same dtype, may have fewer heads)");
  apply->add_option("--positions", apply_options.positions,
                    "int64 .npy: [batch, seq] for bshd/bhsd, [tokens] for thd; multimodal RoPE: [3, batch, seq] or "
                    "[3, tokens] (temporal, height, width)");
  apply->add_option("--offset", apply_options.offset, "every sequence starts at this position");
  apply->add_option("--layout", apply_options.layout, "bshd, bhsd or thd")->capture_default_str();
  apply->add_option("--cu-seqlens", apply_options.cu_seqlens,
                    "thd: int64 .npy of batch + 1 sequence boundaries");
  apply->add_option("--precision", apply_options.precision, "accurate or hf_compatible")
      ->capture_default_str();
  apply->add_flag("--backward", apply_options.backward, "the inverse rotation (RoPE's gradient)");
  apply->add_flag("--bf16", apply_options.bf16, "uint16 tensors hold bfloat16 bit patterns");
  apply->add_option("--space", apply_options.space,
                    "execution space (default: the first this build enables)");
  apply->add_option("--out-q", apply_options.out_q, "rotated q .npy")->required();
  apply->add_option("--out-k", apply_options.out_k, "rotated k .npy (required with --k, unless it goes into a cache)");
  // Paged KV cache output: KokkosRope::rotate_and_cache instead of rotate_copy.
  apply->add_option("--k-cache-out", apply_options.k_cache_out,
                    "paged cache: write the key blocks here (rotated k; with --v-cache-out, --k, --v, --slots)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--v-cache-out", apply_options.v_cache_out, "paged cache: write the value blocks here")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--v", apply_options.v, "value tensor .npy (k's layout, dtype, tokens and heads; any head_dim)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--slots", apply_options.slots,
                    "int64/int32 .npy: the cache slot (block * block_size + offset) of each token, [tokens] or "
                    "[batch, seq]; < 0: padding, not cached")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--cache-layout", apply_options.cache_layout,
                    "nhd: [num_blocks, block_size, kv_heads, dim] (default); hnd: [num_blocks, kv_heads, block_size, dim]")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--block-size", apply_options.block_size, "tokens per cache block (default 16)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--num-blocks", apply_options.num_blocks, "cache blocks (default: enough for the largest slot)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--cache-dtype", apply_options.cache_dtype,
                    "the tensors' dtype (default), float8_e4m3 or float8_e5m2 (fp8: written as uint8 bit patterns)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--k-scale", apply_options.k_scale, "fp8 caches: stored key = key / k_scale (default 1)")
      ->group("Paged KV cache (rotate_and_cache)");
  apply->add_option("--v-scale", apply_options.v_scale, "fp8 caches: stored value = value / v_scale (default 1)")
      ->group("Paged KV cache (rotate_and_cache)");

  auto* cc = app.add_subcommand(
      "crosscheck", "seeded random cases through every execution space and a long-double reference");
  cc->add_option("--dump", cc_options.dump, "write this build's outputs into DIR");
  cc->add_option("--against", cc_options.against, "compare with the outputs another build dumped into DIR");
  cc->add_option("--seed", cc_options.seed, "random seed of the cases")->capture_default_str();
  cc->add_option(
      "--perturb", cc_options.perturb_ulps,
      "debug: add this many ulps to one element of each dumped output (proves --against can fail)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "kokkos-rope: error: " << e.what() << " (see kokkos-rope --help)\n";
    return 2;
  }

  int status = 1;
  try {
    if (info->parsed())
      status = run_info(info_params, info_options);
    else if (table->parsed())
      status = run_table(table_params, table_options);
    else if (apply->parsed())
      status = run_apply(apply_params, apply_options);
    else if (cc->parsed())
      status = run_crosscheck(cc_options);
  } catch (const std::bad_alloc&) {
    std::cout.flush();
    std::cerr
        << "kokkos-rope: error: out of memory (the tensors or the table are too large for this machine)\n";
    status = 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "kokkos-rope: error: " << e.what() << "\n";
    status = 1;
  }
  finalize_kokkos();
  return status;
}
