// SPDX-License-Identifier: Apache-2.0
/// \file Error.hpp
/// The one exception type of KokkosRope's run-time checks.
#ifndef KOKKOSROPE_ERROR_HPP
#define KOKKOSROPE_ERROR_HPP

#include <stdexcept>

namespace KokkosRope {

/// Thrown for every bad input the library rejects at run time (parameters, config files, shapes,
/// positions, cos/sin sources). The message starts with `KokkosRope` (or `KokkosRope::<entry
/// point>`) and names the field and its value; docs/errors.md lists every one. Derives from
/// `std::invalid_argument`, so code that catches that keeps working.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace KokkosRope

#endif
