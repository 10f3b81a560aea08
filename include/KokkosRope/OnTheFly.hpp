// SPDX-License-Identifier: Apache-2.0
/// \file OnTheFly.hpp
/// A cos/sin source that evaluates cos and sin inside the rotation kernel from the frequencies.
#ifndef KOKKOSROPE_ONTHEFLY_HPP
#define KOKKOSROPE_ONTHEFLY_HPP

#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/Precision.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Evaluators.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>

namespace KokkosRope {

/// cos/sin evaluated inside the rotation kernel from the frequencies: no table traffic, a few
/// flops per (token, pair), any position >= 0.
/// \tparam MemorySpace where the frequencies live; accessible from the rotation's execution space
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
class OnTheFly {
 public:
  using memory_space = MemorySpace;  ///< where the frequencies live

  /// The frequencies of `params`, computed on the host and copied to `MemorySpace` on `space`.
  /// \param space the instance that copies the frequencies (it is fenced once: sources are built
  ///        once, not per step)
  /// \param params validated first (InvalidArgument naming the field)
  /// \param precision accurate (angles reduced in double) or hf_compatible (the reference
  ///        framework's float32 recipe)
  /// \param seq_len the sequence length, for the kinds that depend on it (dynamic NTK, LongRoPE);
  ///        absent: the reference framework's initial state
  template <class ExecutionSpace>
  OnTheFly(const ExecutionSpace& space, const Params& params, Precision precision = Precision::accurate,
           std::optional<std::int64_t> seq_len = std::nullopt)
      : m_rotary_dim(params.rotary_dim), m_pair_style(params.pair_style), m_precision(precision) {
    static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, MemorySpace>::accessible,
                  "KokkosRope::OnTheFly: MemorySpace must be accessible from ExecutionSpace");
    Kokkos::Profiling::ScopedRegion region("KokkosRope::OnTheFly");
    if (precision == Precision::accurate)
      set(space, compute_frequencies(params, seq_len));
    else
      set(space, compute_hf_frequencies(params, seq_len));
  }

  /// Frequencies computed elsewhere: in double (`Frequencies`) for the accurate mode, e.g. a
  /// scaling this library does not know; in float32 (`FrequenciesF32`), e.g. a checkpoint's own
  /// `inv_freq` buffer, for the hf_compatible mode, which reproduces that framework's forward
  /// pass from them.
  /// \param space the instance that copies the frequencies
  /// \param frequencies rotary_dim / 2 finite inverse frequencies >= 0 and an attention factor > 0
  /// \param pair_style how the rotary dimensions are paired
  template <
      class ExecutionSpace, class Freqs,
      std::enable_if_t<std::is_same_v<Freqs, Frequencies> || std::is_same_v<Freqs, FrequenciesF32>, int> = 0>
  OnTheFly(const ExecutionSpace& space, const Freqs& frequencies, PairStyle pair_style)
      : m_rotary_dim(2 * static_cast<int>(frequencies.inv_freq.size())),
        m_pair_style(pair_style),
        m_precision(std::is_same_v<Freqs, Frequencies> ? Precision::accurate : Precision::hf_compatible) {
    Kokkos::Profiling::ScopedRegion region("KokkosRope::OnTheFly");
    Impl::check_frequencies(frequencies.inv_freq, frequencies.attention_factor);
    set(space, frequencies);
  }

  /// \return the number of rotated dimensions (twice the number of frequencies).
  int rotary_dim() const { return m_rotary_dim; }
  /// \return how the rotary dimensions are paired.
  PairStyle pair_style() const { return m_pair_style; }
  /// \return the precision mode of the evaluation.
  Precision precision() const { return m_precision; }
  /// \return the factor that multiplies cos and sin.
  double attention_factor() const { return m_attention_factor; }
  /// \return exclusive bound on positions; -1: none.
  std::int64_t position_limit() const { return -1; }

  /// Calls `f(evaluator)` with the evaluator of the chosen precision (two kernel instantiations,
  /// chosen once per call, never per element).
  /// \param f a generic callable, called once
  template <class F>
  void visit(F&& f) const {
    if (m_precision == Precision::accurate)
      f(m_accurate);
    else
      f(m_hf);
  }

 private:
  template <class ExecutionSpace>
  void set(const ExecutionSpace& space, const Frequencies& f) {
    m_accurate = {
        Impl::upload<double, MemorySpace>(space, f.inv_freq, "KokkosRope::OnTheFly::inv_freq", m_staging),
        f.attention_factor};
    m_attention_factor = f.attention_factor;
  }
  template <class ExecutionSpace>
  void set(const ExecutionSpace& space, const FrequenciesF32& f) {
    m_hf = {Impl::upload<float, MemorySpace>(space, f.inv_freq, "KokkosRope::OnTheFly::inv_freq", m_staging),
            f.attention_factor};
    m_attention_factor = f.attention_factor;
  }

  int m_rotary_dim;
  PairStyle m_pair_style;
  Precision m_precision;
  double m_attention_factor = 1.0;
  Impl::AccurateEvaluator<MemorySpace> m_accurate{};
  Impl::HfEvaluator<MemorySpace> m_hf{};
  std::shared_ptr<const void> m_staging;  // the frequencies' host copy, until the source is gone
};

}  // namespace KokkosRope

#endif
