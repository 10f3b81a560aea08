// SPDX-License-Identifier: Apache-2.0
// The seed's RotaryPositionEncoding in this library: Llama 3 scaling (base 10000, base length
// 8192, scale 8, low 1, high 4) applied to a (batch, seq, heads, head_dim) tensor; prints a
// checksum and the max difference from a plain host reference (the seed's formula).
//
//   llama3_rope [batch seq heads head_dim]      default 2 4096 8 128
#include <KokkosRope.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  using Space = Kokkos::DefaultExecutionSpace;
  const int batch = argc > 4 ? std::atoi(argv[1]) : 2;
  const int seq = argc > 4 ? std::atoi(argv[2]) : 4096;
  const int heads = argc > 4 ? std::atoi(argv[3]) : 8;
  const int dim = argc > 4 ? std::atoi(argv[4]) : 128;
  try {
    KokkosRope::Params p;  // the seed's configuration
    p.head_dim = p.rotary_dim = dim;
    p.theta = 10000.0;
    p.max_position_embeddings = 131072;
    p.scaling = KokkosRope::Llama3Scaling{8.0, 1.0, 4.0, 8192};
    const Space space;
    KokkosRope::Table<Space::memory_space> table(space, p, seq);
    // Row-major on every backend (the default layout is LayoutLeft on CUDA): the fill below walks
    // the span, so the input tensor and the printed checksum are the same everywhere.
    Kokkos::View<float****, Kokkos::LayoutRight, Space::memory_space> x("x", batch, seq, heads, dim);
    auto hx = Kokkos::create_mirror(x);  // a copy: the input must survive for the reference
    for (std::size_t i = 0; i < hx.span(); ++i) hx.data()[i] = static_cast<float>(std::sin(0.001 * double(i)));
    Kokkos::deep_copy(space, x, hx);
    KokkosRope::rotate(space, KokkosRope::bshd, x, table);
    auto out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), x);

    // Host reference: inv_freq from the seed's formula, x * cos + rotate_half(x) * sin.
    const int half = dim / 2;
    std::vector<double> inv(half);
    for (int i = 0; i < half; ++i) {
      const double f = std::pow(10000.0, -2.0 * i / dim), wavelen = 2 * M_PI / f;
      if (wavelen < 8192.0 / 4.0) inv[i] = f;
      else if (wavelen > 8192.0 / 1.0) inv[i] = f / 8.0;
      else {
        const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
        inv[i] = (1 - smooth) * f / 8.0 + smooth * f;
      }
    }
    double checksum = 0, max_diff = 0;
    for (int b = 0; b < batch; ++b)
      for (int s = 0; s < seq; ++s)
        for (int h = 0; h < heads; ++h)
          for (int i = 0; i < half; ++i) {
            const double c = std::cos(s * inv[i]), sn = std::sin(s * inv[i]);
            const double x1 = hx(b, s, h, i), x2 = hx(b, s, h, i + half);
            const double y1 = x1 * c - x2 * sn, y2 = x2 * c + x1 * sn;
            max_diff = std::max({max_diff, std::fabs(out(b, s, h, i) - y1), std::fabs(out(b, s, h, i + half) - y2)});
            checksum += out(b, s, h, i) + out(b, s, h, i + half);
          }
    std::printf("llama3_rope on %s: x[%d,%d,%d,%d] checksum %.6f, max |diff| vs host reference %.3e\n", Space::name(),
                batch, seq, heads, dim, checksum, max_diff);
    return max_diff < 1e-5 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llama3_rope: %s\n", e.what());
    return 1;
  }
}
