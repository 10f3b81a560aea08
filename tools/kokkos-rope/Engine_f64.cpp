// SPDX-License-Identifier: Apache-2.0
// The rotation engine for double tensors (one translation unit per type keeps builds parallel).
#include "Engine.hpp"

namespace KokkosRopeTool {
KOKKOSROPE_TOOL_ENGINE_INSTANCES(, double)
}  // namespace KokkosRopeTool
