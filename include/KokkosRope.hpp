// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRope.hpp
/// Umbrella header: rotary position embeddings on Kokkos.
#ifndef KOKKOSROPE_HPP
#define KOKKOSROPE_HPP

#include <KokkosRope/Version.hpp>
#include <KokkosRope/Error.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/ModelRope.hpp>
#include <KokkosRope/Precision.hpp>
#include <KokkosRope/BFloat16.hpp>
#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/OnTheFly.hpp>
#include <KokkosRope/Table.hpp>
#include <KokkosRope/CosSinViews.hpp>
#include <KokkosRope/Sources.hpp>
#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/Positions.hpp>
#include <KokkosRope/Options.hpp>
#include <KokkosRope/Status.hpp>
#include <KokkosRope/Blocks.hpp>
#include <KokkosRope/Rotate.hpp>
#include <KokkosRope/KvCache.hpp>
#include <KokkosRope/RotateAndCache.hpp>
#include <KokkosRope/ContextParallel.hpp>

#endif
