// SPDX-License-Identifier: Apache-2.0
// Prints each pair's wavelength, band (kept / blended / scaled) and resulting frequency for a
// configuration given on the command line or in a Hugging Face config.json.
//
//   llama3_frequencies                       Llama 3.1 8B (theta 500000, head_dim 128, factor 8)
//   llama3_frequencies config.json           any config the library can load
//   llama3_frequencies THETA DIM FACTOR LOW HIGH ORIGINAL
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char* argv[]) {
  using namespace KokkosRope;
  try {
    Params p;
    p.head_dim = p.rotary_dim = 128;
    p.theta = 500000.0;
    p.max_position_embeddings = 131072;
    p.scaling = Llama3Scaling{8.0, 1.0, 4.0, 8192};
    if (argc == 2) {
      p = load_hf_config(argv[1]).params;
    } else if (argc == 7) {
      p.theta = std::atof(argv[1]);
      p.head_dim = p.rotary_dim = std::atoi(argv[2]);
      p.scaling = Llama3Scaling{std::atof(argv[3]), std::atof(argv[4]), std::atof(argv[5]), std::atoll(argv[6])};
    } else if (argc != 1) {
      std::fprintf(stderr, "usage: %s [config.json | THETA DIM FACTOR LOW HIGH ORIGINAL]\n", argv[0]);
      return 2;
    }
    const auto f = compute_frequencies(p);
    const auto bands = compute_bands(p);
    Params plain = p;
    plain.scaling = NoScaling{};
    const auto base = compute_frequencies(plain);
    std::printf("rope_type %s, theta %g, rotary_dim %d, attention_factor %.6f\n", rope_type_name(p.scaling).c_str(),
                p.theta, p.rotary_dim, f.attention_factor);
    std::printf("%5s %14s %8s %16s %16s %10s\n", "pair", "wavelength", "band", "inv_freq", "scaled", "divisor");
    int counts[3] = {0, 0, 0};
    for (std::size_t i = 0; i < f.inv_freq.size(); ++i) {
      ++counts[static_cast<int>(bands[i])];
      std::printf("%5zu %14.1f %8s %16.9e %16.9e %10.4f\n", i, 2 * M_PI / base.inv_freq[i], band_name(bands[i]).c_str(),
                  base.inv_freq[i], f.inv_freq[i], base.inv_freq[i] / f.inv_freq[i]);
    }
    std::printf("pairs kept %d, blended %d, scaled %d\n", counts[0], counts[1], counts[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llama3_frequencies: %s\n", e.what());
    return 1;
  }
  return 0;
}
