// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the config.json loader (KokkosRope::parse_hf_config) and the frequency formulas
// on whatever it accepts. The only acceptable failure is KokkosRope::InvalidArgument; any other
// exception, a crash, undefined behaviour or a leak is a finding.
#include <KokkosRope/Error.hpp>
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  KokkosRope::HfConfig config;
  try {
    config = KokkosRope::parse_hf_config(text, "fuzz");
  } catch (const KokkosRope::InvalidArgument&) {
    return 0;
  }
  const KokkosRope::Params& p = config.params;
  // What the loader accepts, validate() accepts, and its invariants hold.
  if (!(p.head_dim > 0 && p.rotary_dim > 0 && p.rotary_dim % 2 == 0 && p.rotary_dim <= p.head_dim)) __builtin_trap();
  p.validate();
  const auto pairs = static_cast<std::size_t>(p.num_pairs());
  for (const std::optional<std::int64_t> seq_len : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{1},
                                                    std::optional<std::int64_t>{p.max_position_embeddings * 2}}) {
    try {
      if (KokkosRope::compute_frequencies(p, seq_len).inv_freq.size() != pairs) __builtin_trap();
      if (KokkosRope::compute_hf_frequencies(p, seq_len).inv_freq.size() != pairs) __builtin_trap();
      if (KokkosRope::compute_bands(p, seq_len).size() != pairs) __builtin_trap();
      (void)KokkosRope::effective_theta(p, seq_len);
      if (std::holds_alternative<KokkosRope::YarnScaling>(p.scaling)) (void)KokkosRope::yarn_correction_range(p);
    } catch (const KokkosRope::InvalidArgument&) {
    }
  }
  return 0;
}
