// SPDX-License-Identifier: Apache-2.0
/// \file Common.hpp
/// Shared pieces of the kokkos-rope command-line tool: the error type every subcommand throws,
/// host tensors read from / written to .npy files, the parameter flags, and the rotation engine
/// that runs the library's kernels in any enabled execution space.
#ifndef KOKKOSROPE_TOOLS_COMMON_HPP
#define KOKKOSROPE_TOOLS_COMMON_HPP

#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/ModelRope.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/Precision.hpp>

#include "NpyHeader.hpp"  // Error, DType, the .npy header parser

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace KokkosRopeTool {

/// Mantissa bits including the implicit one (24 for float), for ulp measurements.
int mantissa_bits(DType dtype);

/// A C-ordered array on the host; floating values are held as double (exact for every
/// supported type), integers as int64.
struct HostArray {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::vector<double> values;        ///< floating dtypes
  std::vector<std::int64_t> ints;    ///< integer dtypes
  std::int64_t size() const;
  std::string shape_string() const;
};

/// Reads a .npy file (header: parse_npy_header). `what` names the argument in error messages
/// ("--q"). `bf16`: read uint16 arrays as bfloat16 bit patterns.
HostArray read_npy(const std::string& path, const std::string& what, bool bf16 = false);

/// A file written under a temporary name and renamed onto its destination by `commit()`;
/// destroyed uncommitted, the temporary disappears (no partial output after an error).
class PendingFile {
 public:
  explicit PendingFile(std::string path);
  ~PendingFile();
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;
  const std::string& temp_path() const { return m_temp; }
  const std::string& path() const { return m_path; }
  void commit();

 private:
  std::string m_path, m_temp;
  bool m_committed = false;
};

/// Writes `array` as .npy (float16 as '<f2', bfloat16 as '<u2' bit patterns) to `file`'s
/// temporary path. Values are rounded to nearest even into 16-bit types.
void write_npy(PendingFile& file, const HostArray& array);

/// Writes raw bytes as a uint8 .npy ('|u1') of `shape` to `file`'s temporary path (fp8 caches:
/// the bit patterns).
void write_npy_u8(PendingFile& file, const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& bytes);

/// Rounds to the nearest value of a 16-bit type (ties to even), as a double.
double round_to(DType dtype, double value);

/// Flags that describe RoPE without (or on top of) a config.json.
struct ParamOptions {
  std::string config;
  std::optional<int> head_dim, rotary_dim;
  std::optional<double> partial_rotary_factor, theta;
  std::optional<std::int64_t> max_position_embeddings, original_max_position_embeddings;
  std::optional<std::string> rope_type;
  std::optional<double> factor, low_freq_factor, high_freq_factor, beta_fast, beta_slow, mscale,
      mscale_all_dim, attention_factor;
  std::optional<bool> truncate;
  std::vector<double> short_factor, long_factor;
  bool interleaved = false;
  std::optional<std::int64_t> seq_len;
  std::optional<std::string> layer_type;  ///< the parameters of this layer type of --config
  std::vector<int> mrope_section;         ///< pairs per stream (t, h, w); overrides the config's
  bool mrope_interleaved = false;
};

struct ModelInfo {
  KokkosRope::Params params;
  std::string model_type;  ///< from the config, or empty
  std::string source;      ///< "config.json path" or "command-line flags"
  std::string layer_type;  ///< the layer type `params` describe; empty: the global layers
  std::optional<KokkosRope::ModelRope> model;    ///< every layer of --config
  std::optional<KokkosRope::MropeSection> mrope;  ///< from --mrope-section or the config
};

/// Params from --config and the flags (flags override the config; --rope-type replaces the
/// config's scaling; --layer-type picks a layer type's parameters). Throws Error naming the flag
/// or the config key.
ModelInfo resolve_params(const ParamOptions& options);

KokkosRope::Precision parse_precision(const std::string& name);

/// Tensor orders of `apply`.
enum class Layout { bshd, bhsd, thd };
Layout parse_layout(const std::string& name);
std::string layout_name(Layout layout);

/// One rotation through the library. Positions are explicit per token (in token order:
/// [batch][seq] for bshd/bhsd, [tokens] for thd; with `mrope`, three such blocks: temporal,
/// height, width); thd carries cu_seqlens (batch + 1 entries).
struct RotationJob {
  KokkosRope::Params params;
  KokkosRope::Precision precision = KokkosRope::Precision::accurate;
  std::optional<std::int64_t> seq_len;
  Layout layout = Layout::bshd;
  bool backward = false;
  DType dtype = DType::f32;  ///< f32, f64, f16 or bf16
  std::vector<std::int64_t> q_shape, k_shape;  ///< k_shape empty: no k
  std::vector<std::int64_t> positions;
  std::vector<std::int64_t> cu_seqlens;
  std::optional<KokkosRope::MropeSection> mrope;  ///< three position streams
};

/// Execution spaces this build enables, in the order the engine indexes them.
std::vector<std::string> enabled_spaces();

/// Rotates q (and k) in execution space `space` (an index into enabled_spaces()) with
/// KokkosRope::rotate_copy and an OnTheFly source. Values are converted to/from the device type.
void run_rotation(int space, const RotationJob& job, const std::vector<double>& q,
                  const std::vector<double>& k, std::vector<double>& q_out, std::vector<double>& k_out);

/// Element type of a paged cache written by `apply --k-cache-out`: the tensors' own type, or fp8.
enum class CacheDType { same, f8e4m3, f8e5m2 };

/// The paged KV cache of `apply --k-cache-out/--v-cache-out` (KokkosRope::rotate_and_cache).
struct CacheJob {
  bool hnd = false;  ///< [num_blocks, kv_heads, block_size, dim] instead of [.., block_size, kv_heads, ..]
  CacheDType dtype = CacheDType::same;
  std::int64_t num_blocks = 0, block_size = 0, kv_heads = 0, head_dim = 0, v_head_dim = 0;
  float k_scale = 1, v_scale = 1;  ///< fp8 only
  std::vector<std::int64_t> v_shape;  ///< the v tensor, k's layout
  std::vector<std::int64_t> slots;    ///< one per token in token order; < 0: padding
};

/// The cache after the call: values (the tensors' dtype) or, for fp8, the bit patterns.
struct CacheResult {
  std::vector<std::int64_t> k_shape, v_shape;
  std::vector<double> k, v;
  std::vector<std::uint8_t> k_bits, v_bits;
};

/// Rotates q (and writes rotated k and v into a zero-initialised paged cache) with
/// KokkosRope::rotate_and_cache in execution space `space`; q_out is the rotated q.
void run_rotation_and_cache(int space, const RotationJob& job, const CacheJob& cache, const std::vector<double>& q,
                            const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& q_out,
                            CacheResult& result);

// Per-type entry points (one translation unit each, to keep compile units small).
template <class T>
void run_typed(int space, const RotationJob& job, const std::vector<double>& q,
               const std::vector<double>& k, std::vector<double>& q_out, std::vector<double>& k_out);
template <class T>
void run_cache_typed(int space, const RotationJob& job, const CacheJob& cache, const std::vector<double>& q,
                     const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& q_out,
                     CacheResult& result);

/// Kokkos is initialised once, lazily, by the subcommands that need it; a guard in main
/// finalises it.
void ensure_kokkos();
void finalize_kokkos();

// Subcommands.
struct InfoOptions {
  bool json = false;
};
int run_info(const ParamOptions& params, const InfoOptions& options);

struct TableOptions {
  std::string positions = "0:1";
  std::string precision = "accurate";
  std::string dtype = "float32";
  std::string out;
};
int run_table(const ParamOptions& params, const TableOptions& options);

struct ApplyOptions {
  std::string q, k, positions, cu_seqlens, layout = "bshd", precision = "accurate";
  std::optional<std::int64_t> offset;
  bool backward = false, bf16 = false;
  std::string out_q, out_k;
  std::string space;  ///< execution space name; empty: the first enabled one
  // Paged KV cache output (rotate_and_cache): all empty / unset without --k-cache-out.
  std::string v, slots, k_cache_out, v_cache_out, cache_layout, cache_dtype;
  std::optional<std::int64_t> block_size, num_blocks;
  std::optional<double> k_scale, v_scale;
};
int run_apply(const ParamOptions& params, const ApplyOptions& options);

struct CrosscheckOptions {
  std::string dump, against;
  std::uint64_t seed = 20240607;
  double perturb_ulps = 0.0;
};
int run_crosscheck(const CrosscheckOptions& options);

}  // namespace KokkosRopeTool

#endif
