// SPDX-License-Identifier: Apache-2.0
// The one throw helper of the library: every run-time check reports through it, so every
// message has the same prefix and every exception the same type.
#ifndef KOKKOSROPE_IMPL_ERROR_HPP
#define KOKKOSROPE_IMPL_ERROR_HPP

#include <KokkosRope/Error.hpp>

#include <string>

namespace KokkosRope::Impl {

/// Throws InvalidArgument("KokkosRope::<where>: <what>"), or "KokkosRope: <what>" when `where`
/// is empty (the host-side parameter and config checks, which are not one entry point's).
[[noreturn]] inline void throw_invalid_argument(const std::string& where, const std::string& what) {
  throw InvalidArgument("KokkosRope" + (where.empty() ? std::string() : "::" + where) + ": " + what);
}

}  // namespace KokkosRope::Impl

#endif
