// SPDX-License-Identifier: Apache-2.0
// The bad-input table of docs/errors.md, row by row: every invalid parameter, config.json, source,
// shape, layout and position the library rejects, with the exception type and message each gets,
// and (for the rotations) the check that nothing was written. Each row has the ID that
// docs/errors.md gives it; the kokkos-rope rows are CLI tests (tests/cli, cli.error.*).
#include "TestCategory.hpp"

#include <KokkosRope.hpp>
#include <KokkosRope/ModelRope.hpp>

#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "ErrorMatchers.hpp"

using namespace KokkosRope;

namespace {

const double nan_v = std::numeric_limits<double>::quiet_NaN();
const double inf_v = std::numeric_limits<double>::infinity();

struct Row {
  const char* id;
  std::function<void()> call;
  const char* message;  // the exact message, or its stable part
};

// The rows of docs/errors.md's tables, by ID: the whole line of each.
const std::map<std::string, std::string>& documented_rows() {
  static const std::map<std::string, std::string> rows = [] {
    std::map<std::string, std::string> out;
    std::ifstream in(std::string(KOKKOSROPE_TEST_DATA_DIR) + "/../../docs/errors.md");
    const std::regex row(R"(^\| *([A-Z][0-9]+) *\|)");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
      if (std::regex_search(line, m, row)) out[m[1]] = line;
    return out;
  }();
  return rows;
}

// Whether a documented row shows `message`: verbatim, or as one of its `quoted` messages in which
// `<...>` (a part of the input) and `...` (an elided part) stand for any text.
bool shows_message(const std::string& line, const std::string& message) {
  if (line.find(message) != std::string::npos) return true;
  const std::regex quoted("`([^`]+)`");
  for (std::sregex_iterator it(line.begin(), line.end(), quoted), end; it != end; ++it) {
    std::string pattern;
    const std::string text = (*it)[1];
    for (std::size_t i = 0; i < text.size();) {
      const std::size_t close = text[i] == '<' ? text.find('>', i) : std::string::npos;
      if (close != std::string::npos) {
        pattern += ".*";
        i = close + 1;
      } else if (text.compare(i, 3, "...") == 0) {
        pattern += ".*";
        i += 3;
      } else {
        if (std::string("\\^$.|?*+()[]{}").find(text[i]) != std::string::npos) pattern += '\\';
        pattern += text[i++];
      }
    }
    if (std::regex_match(message, std::regex(pattern))) return true;
  }
  return false;
}

// The catalogue and the code cannot drift: every row of a section of docs/errors.md (IDs
// `<prefix><n>`) is a row of the test, and each row's message is the one its line documents.
// Test rows `P5b`, `P5c`, ... are further inputs of documented row P5.
void expect_documented(const std::string& prefix, const std::vector<Row>& rows) {
  const auto& documented = documented_rows();
  std::set<std::string> tested;
  for (const auto& row : rows) {
    const std::string id = std::regex_replace(std::string(row.id), std::regex("[a-z]+$"), "");
    tested.insert(id);
    const auto it = documented.find(id);
    if (it == documented.end()) {
      ADD_FAILURE() << row.id << " is not a row of docs/errors.md";
      continue;
    }
    EXPECT_TRUE(shows_message(it->second, row.message))
        << "docs/errors.md row " << id << " does not show the message the library throws: " << row.message
        << "\n  " << it->second;
  }
  const std::regex id(prefix + "[0-9]+");
  for (const auto& [doc_id, line] : documented)
    if (std::regex_match(doc_id, id)) {
      EXPECT_EQ(tested.count(doc_id), 1u) << doc_id << " of docs/errors.md has no test row";
    }
}

// Runs every row: KokkosRope::InvalidArgument containing the message, the row documented;
// returns how many were tried.
int run_rows(const std::string& prefix, const std::vector<Row>& rows) {
  expect_documented(prefix, rows);
  for (const auto& row : rows) {
    SCOPED_TRACE(row.id);
    KOKKOSROPE_EXPECT_INVALID(row.call(), row.message);
  }
  return static_cast<int>(rows.size());
}

// Runs every row as run_rows does (without the documentation check) and asserts after each that
// `unchanged()` still holds: nothing was written. Returns how many were tried.
int run_rows_writing_nothing(const std::vector<Row>& rows, const std::function<bool()>& unchanged) {
  for (const auto& row : rows) {
    SCOPED_TRACE(row.id);
    KOKKOSROPE_EXPECT_INVALID(row.call(), row.message);
    EXPECT_TRUE(unchanged()) << row.id << " wrote to an output";
  }
  return static_cast<int>(rows.size());
}

Params base() {
  Params p;
  p.head_dim = p.rotary_dim = 64;
  p.theta = 10000.0;
  p.max_position_embeddings = 4096;
  return p;
}

template <class S>
Params with(const S& s) {
  Params p = base();
  p.scaling = s;
  return p;
}

// validate() and every entry point that validates first (the frequency functions) reject it.
std::function<void()> validates(Params p) {
  return [p] { p.validate(); };
}

LongRopeScaling longrope() {
  LongRopeScaling l;
  l.short_factor.assign(32, 1.0);
  l.long_factor.assign(32, 2.0);
  l.original_max_position_embeddings = 1024;
  return l;
}

}  // namespace

// ---- Params::validate (P rows) ------------------------------------------------------------------
TEST(Errors, Params) {
  auto geometry = [](auto f) { Params p = base(); f(p); return validates(p); };
  auto yarn = [](auto f) { YarnScaling y; y.factor = 4; f(y); return validates(with(y)); };
  auto lr = [](auto f) { LongRopeScaling l = longrope(); f(l); return validates(with(l)); };
  auto llama3 = [](auto f) { Llama3Scaling s; f(s); return validates(with(s)); };
  const std::vector<Row> rows = {
      {"P1", geometry([](Params& p) { p.head_dim = 0; }), "KokkosRope: invalid head_dim = 0: must be > 0"},
      {"P2", geometry([](Params& p) { p.rotary_dim = 0; }), "KokkosRope: invalid rotary_dim = 0: must be > 0"},
      {"P3", geometry([](Params& p) { p.rotary_dim = 63; }),
       "KokkosRope: invalid rotary_dim = 63: must be even (dimensions are rotated in pairs)"},
      {"P4", geometry([](Params& p) { p.rotary_dim = 66; }), "KokkosRope: invalid rotary_dim = 66: must be <= head_dim (64)"},
      {"P5", geometry([](Params& p) { p.theta = nan_v; }), "KokkosRope: invalid theta = nan: must be finite"},
      {"P5b", geometry([](Params& p) { p.theta = -inf_v; }), "KokkosRope: invalid theta = -inf: must be finite"},
      {"P6", geometry([](Params& p) { p.theta = 1.0; }),
       "KokkosRope: invalid theta = 1: must be > 1 (the base of the frequency progression)"},
      {"P7", geometry([](Params& p) { p.pair_style = static_cast<PairStyle>(7); }),
       "KokkosRope: invalid pair_style = 7: unknown pair style"},
      {"P8", geometry([](Params& p) { p.max_position_embeddings = -1; }),
       "KokkosRope: invalid max_position_embeddings = -1: must be > 0"},
      {"P9", [] { Params p = base(); p.set_partial_rotary_factor(1.25); },
       "KokkosRope: invalid partial_rotary_factor = 1.25: must be in (0, 1]"},
      {"P9b", [] { Params p = base(); p.set_partial_rotary_factor(-0.5); },
       "KokkosRope: invalid partial_rotary_factor = -0.5: must be in (0, 1]"},
      {"P10", validates(with(LinearScaling{0.5})), "KokkosRope: invalid linear.factor = 0.5: a scaling factor must be >= 1"},
      {"P10b", validates(with(LinearScaling{inf_v})), "KokkosRope: invalid linear.factor = inf: must be finite"},
      {"P11", validates(with(NtkScaling{0.5})), "KokkosRope: invalid ntk.factor = 0.5: a scaling factor must be >= 1"},
      {"P12", [] { Params p = with(NtkScaling{2}); p.head_dim = p.rotary_dim = 2; p.validate(); },
       "KokkosRope: invalid rotary_dim = 2: NTK scaling needs rotary_dim > 2"},
      {"P13", validates(with(DynamicNtkScaling{nan_v})), "KokkosRope: invalid dynamic.factor = nan: must be finite"},
      {"P14", [] { Params p = with(DynamicNtkScaling{2}); p.head_dim = p.rotary_dim = 2; p.validate(); },
       "KokkosRope: invalid rotary_dim = 2: dynamic NTK scaling needs rotary_dim > 2"},
      {"P15", yarn([](YarnScaling& y) { y.factor = 0.9; }), "KokkosRope: invalid yarn.factor = 0.90000000000000002: a scaling factor must be >= 1"},
      {"P16", yarn([](YarnScaling& y) { y.original_max_position_embeddings = 0; }),
       "KokkosRope: invalid yarn.original_max_position_embeddings = 0: must be > 0"},
      {"P17", yarn([](YarnScaling& y) { y.beta_fast = 0; }), "KokkosRope: invalid yarn.beta_fast = 0: must be > 0"},
      {"P18", yarn([](YarnScaling& y) { y.beta_slow = -1; }), "KokkosRope: invalid yarn.beta_slow = -1: must be > 0"},
      {"P19", yarn([](YarnScaling& y) { y.beta_fast = 1; y.beta_slow = 32; }),
       "KokkosRope: invalid yarn.beta_fast = 1: must be >= beta_slow (32.000000)"},
      {"P20", yarn([](YarnScaling& y) { y.mscale = inf_v; }), "KokkosRope: invalid yarn.mscale = inf: must be finite"},
      {"P21", yarn([](YarnScaling& y) { y.mscale_all_dim = nan_v; }), "KokkosRope: invalid yarn.mscale_all_dim = nan: must be finite"},
      {"P22", yarn([](YarnScaling& y) { y.attention_factor = -1; }), "KokkosRope: invalid yarn.attention_factor = -1: must be > 0"},
      {"P23", lr([](LongRopeScaling& l) { l.short_factor.pop_back(); }),
       "KokkosRope: invalid longrope.short_factor = list of 31: needs rotary_dim / 2 = 32 entries"},
      {"P24", lr([](LongRopeScaling& l) { l.long_factor.push_back(1); }),
       "KokkosRope: invalid longrope.long_factor = list of 33: needs rotary_dim / 2 = 32 entries"},
      {"P25", lr([](LongRopeScaling& l) { l.short_factor[3] = 0; }), "KokkosRope: invalid longrope.short_factor[3] = 0: must be > 0"},
      {"P26", lr([](LongRopeScaling& l) { l.long_factor[31] = nan_v; }),
       "KokkosRope: invalid longrope.long_factor[31] = nan: must be finite"},
      {"P27", lr([](LongRopeScaling& l) { l.original_max_position_embeddings = -4; }),
       "KokkosRope: invalid longrope.original_max_position_embeddings = -4: must be > 0"},
      {"P28", lr([](LongRopeScaling& l) { l.factor = 0; }), "KokkosRope: invalid longrope.factor = 0: must be > 0"},
      {"P29", lr([](LongRopeScaling& l) { l.attention_factor = inf_v; }),
       "KokkosRope: invalid longrope.attention_factor = inf: must be finite"},
      {"P30", llama3([](Llama3Scaling& s) { s.factor = 0.5; }), "KokkosRope: invalid llama3.factor = 0.5: a scaling factor must be >= 1"},
      {"P31", llama3([](Llama3Scaling& s) { s.low_freq_factor = 0; }), "KokkosRope: invalid llama3.low_freq_factor = 0: must be > 0"},
      {"P32", llama3([](Llama3Scaling& s) { s.high_freq_factor = -4; }), "KokkosRope: invalid llama3.high_freq_factor = -4: must be > 0"},
      // Pair 0's wavelength is 2 pi: exactly 1 / (1 / (2 pi)) in double and in float32.
      {"P33", [] { compute_frequencies(with(Llama3Scaling{8, 1 / (2 * M_PI), 1 / (2 * M_PI), 1})); },
       "KokkosRope: invalid llama3.low_freq_factor = 0.15915494309189535: equals high_freq_factor and pair 0's wavelength is "
       "exactly original_max_position_embeddings / low_freq_factor (the blend would divide by zero)"},
      {"P33b", [] { compute_hf_frequencies(with(Llama3Scaling{8, 1 / (2 * M_PI), 1 / (2 * M_PI), 1})); },
       "KokkosRope: invalid llama3.low_freq_factor = 0.15915494309189535: equals high_freq_factor"},
      {"P34", llama3([](Llama3Scaling& s) { s.original_max_position_embeddings = 0; }),
       "KokkosRope: invalid llama3.original_max_position_embeddings = 0: must be > 0"},
      {"P35", geometry([](Params& p) { p.rotated_pairs = 33; }), "KokkosRope: invalid rotated_pairs = 33: must be in [0, rotary_dim / 2 = 32]"},
  };
  const int tried = run_rows("P", rows);
  // The frequency functions validate first: the same rows reject there too.
  for (const auto& p : {with(LinearScaling{0.5}), with(Llama3Scaling{8, 0, 4, 8192})}) {
    KOKKOSROPE_EXPECT_INVALID(compute_frequencies(p), "KokkosRope: invalid");
    KOKKOSROPE_EXPECT_INVALID(compute_hf_frequencies(p), "KokkosRope: invalid");
    KOKKOSROPE_EXPECT_INVALID(compute_bands(p), "KokkosRope: invalid");
  }
  RecordProperty("bad_inputs", tried + 6);
}

// ---- frequency functions (F rows) ---------------------------------------------------------------
TEST(Errors, Frequencies) {
  const std::vector<Row> rows = {
      {"F1", [] { compute_frequencies(with(DynamicNtkScaling{2}), -1); }, "KokkosRope: invalid seq_len = -1: must be >= 0"},
      {"F2", [] { compute_hf_frequencies(with(DynamicNtkScaling{2}), -5); }, "KokkosRope: invalid seq_len = -5: must be >= 0"},
      {"F3", [] { yarn_correction_range(with(LinearScaling{2})); },
       "KokkosRope: invalid scaling = linear: yarn_correction_range needs YaRN scaling"},
  };
  RecordProperty("bad_inputs", run_rows("F", rows));
}

// ---- config.json (H rows) -----------------------------------------------------------------------
TEST(Errors, HfConfig) {
  const std::string head = R"({"head_dim": 64, "max_position_embeddings": 4096, )";
  auto cfg = [](std::string text) { return [text] { parse_hf_config(text, "c.json"); }; };
  auto scaling = [&](const std::string& block) { return cfg(head + R"("rope_scaling": )" + block + "}"); };
  // A two-layer-type config (v5) and a Llama 4 text config of 4 layers, with the given keys.
  auto per_type = [&](const std::string& keys) {
    return cfg(head + R"("rope_parameters": {"full_attention": {"rope_type": "default"}, "sliding_attention": {"rope_type": "default"}}, )" +
               keys + "}");
  };
  auto llama4 = [&](const std::string& keys) {
    return cfg(head + R"("model_type": "llama4_text", "num_hidden_layers": 4, )" + keys + "}");
  };
  const std::string dir = (std::filesystem::temp_directory_path() / "kokkosrope_errors_dir").string();
  std::filesystem::create_directories(dir);
  const std::vector<Row> rows = {
      {"H1", [] { load_hf_config("/nonexistent/config.json"); }, "KokkosRope: cannot open config file '/nonexistent/config.json'"},
      {"H2", [dir] { load_hf_config(dir); }, "KokkosRope: "},  // a directory: unreadable (cannot read / malformed JSON)
      {"H3", cfg(R"({"head_dim": 64,)"), "KokkosRope: c.json: malformed JSON at byte "},
      {"H4", cfg(R"({"head_dim": 64, "max_position_embeddings": 1e400})"),
       "KokkosRope: c.json: malformed JSON: [json.exception.out_of_range.406] number overflow parsing '1e400'"},
      {"H5", cfg("[1, 2]"), "KokkosRope: c.json: key '<root>' must be a JSON object"},
      {"H6", cfg(R"({"model_type": 3, "head_dim": 64, "max_position_embeddings": 4096})"), "KokkosRope: c.json: key 'model_type' must be a string"},
      {"H7", cfg(R"({"num_attention_heads": 0, "head_dim": 64, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'num_attention_heads' must be > 0"},
      {"H8", cfg(R"({"num_key_value_heads": 4294967296, "head_dim": 64, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'num_key_value_heads' must be > 0"},
      {"H9", cfg(R"({"head_dim": 2097152, "max_position_embeddings": 4096})"), "KokkosRope: c.json: key 'head_dim' must be in [1, 2^20]"},
      {"H10", cfg(R"({"max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'head_dim' is required (or hidden_size and num_attention_heads)"},
      {"H11", cfg(R"({"hidden_size": 4096, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'num_attention_heads' is required to derive head_dim from hidden_size"},
      {"H12", cfg(R"({"hidden_size": 0, "num_attention_heads": 3, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'hidden_size' must be > 0"},
      {"H12b", cfg(R"({"hidden_size": 2, "num_attention_heads": 3, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'hidden_size' gives head_dim 0 (fewer than num_attention_heads = 3)"},
      {"H13", cfg(R"({"hidden_size": 4194304, "num_attention_heads": 2, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'hidden_size' gives head_dim > 2^20"},
      {"H14", cfg(R"({"head_dim": "64", "max_position_embeddings": 4096})"), "KokkosRope: c.json: key 'head_dim' must be a number, got string"},
      {"H15", cfg(R"({"head_dim": 64.5, "max_position_embeddings": 4096})"), "KokkosRope: c.json: key 'head_dim' must be an integer"},
      {"H16", cfg(R"({"head_dim": 64, "max_position_embeddings": 1e16})"),
       "KokkosRope: c.json: key 'max_position_embeddings' must be an integer"},
      {"H17", cfg(head + R"("rope_scaling": 3})"), "KokkosRope: c.json: key 'rope_scaling' must be an object or null"},
      {"H18", cfg(head + R"("rope_parameters": [1]})"), "KokkosRope: c.json: key 'rope_parameters' must be an object or null"},
      {"H19", cfg(head + R"("rope_theta": 10000, "rotary_emb_base": 500000})"),
       "KokkosRope: c.json: key 'rotary_emb_base' contradicts rope_theta"},
      {"H20", cfg(head + R"("rope_theta": 10000, "rope_parameters": {"rope_theta": 500000}})"),
       "KokkosRope: c.json: key 'rope_parameters.rope_theta' contradicts rope_theta"},
      {"H21", cfg(head + R"("partial_rotary_factor": 0})"), "KokkosRope: c.json: key 'partial_rotary_factor' must be in (0, 1]"},
      {"H22", cfg(R"({"head_dim": 64, "rope_scaling": {"rope_type": "dynamic", "factor": 2}})"),
       "KokkosRope: c.json: key 'max_position_embeddings' is required (rope_type 'dynamic' reads it)"},
      {"H23", scaling(R"({"rope_type": 1, "factor": 2})"), "KokkosRope: c.json: key 'rope_scaling.rope_type' must be a string"},
      {"H24", scaling(R"({"type": 2, "factor": 2})"), "KokkosRope: c.json: key 'rope_scaling.type' must be a string"},
      {"H25", scaling(R"({"type": "linear", "rope_type": "dynamic", "factor": 2})"),
       "KokkosRope: c.json: key 'rope_scaling.type' ('linear') contradicts rope_scaling.rope_type ('dynamic')"},
      {"H26", scaling(R"({"factor": 2})"), "KokkosRope: c.json: key 'rope_scaling.rope_type' is required"},
      {"H27", scaling(R"({"rope_type": "magic"})"),
       "KokkosRope: c.json: key 'rope_scaling.rope_type' has unknown value 'magic' (known: default, linear, ntk, dynamic, yarn, longrope, llama3, proportional)"},
      {"H28", scaling(R"({"rope_type": "ntk"})"), "KokkosRope: c.json: key 'rope_scaling.factor' is required"},
      {"H29", scaling(R"({"rope_type": "yarn"})"),
       "KokkosRope: c.json: key 'rope_scaling.factor' is required (or original_max_position_embeddings to derive it)"},
      {"H30", scaling(R"({"rope_type": "yarn", "factor": 4, "truncate": 0})"),
       "KokkosRope: c.json: key 'rope_scaling.truncate' must be true or false"},
      {"H31", scaling(R"({"rope_type": "longrope", "short_factor": {}, "long_factor": []})"),
       "KokkosRope: c.json: key 'rope_scaling.short_factor' must be a list of numbers"},
      {"H32", scaling(R"({"rope_type": "longrope", "short_factor": [1, "2"], "long_factor": []})"),
       "KokkosRope: c.json: key 'rope_scaling.short_factor[1]' must be a number, got string"},
      {"H33", scaling(R"({"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4})"),
       "KokkosRope: c.json: key 'rope_scaling.original_max_position_embeddings' is required"},
      {"H34", cfg(head + R"("rope_scaling": {"rope_type": "linear", "factor": 2}, "rope_parameters": {"rope_type": "dynamic", "factor": 2}})"),
       "KokkosRope: c.json: key 'rope_parameters.rope_type' ('dynamic') contradicts rope_scaling ('linear')"},
      {"H35", scaling(R"({"rope_type": "linear", "factor": 0.5})"),
       "KokkosRope: invalid linear.factor = 0.5: a scaling factor must be >= 1 (from c.json)"},
      {"H36", cfg(R"({"text_config": 3})"), "KokkosRope: c.json: key 'text_config' must be an object"},
      {"H37", cfg(R"({"rope_theta": 10000, "text_config": {"head_dim": 64, "max_position_embeddings": 4096, "rope_theta": 500000}})"),
       "KokkosRope: c.json: key 'rope_theta' (top level) contradicts text_config.rope_theta"},
      {"H38", cfg(R"({"head_dim": 42, "max_position_embeddings": 4096, "partial_rotary_factor": 0.5})"),
       "KokkosRope: c.json: key 'partial_rotary_factor' gives an odd rotary dimension int(42 * partial_rotary_factor) = 21 "
       "(the reference's exponent denominator; no even rotary_dim has its frequencies)"},
      {"H39", per_type(R"("layer_types": "full_attention")"), "KokkosRope: c.json: key 'layer_types' must be a list of strings"},
      {"H39b", per_type(R"("layer_types": [1])"), "KokkosRope: c.json: key 'layer_types[0]' must be a string"},
      {"H40", per_type(R"("layer_types": ["full_attention", "chunked_attention"])"),
       "KokkosRope: c.json: key 'layer_types[1]' ('chunked_attention') is a layer type without RoPE parameters"},
      {"H41", llama4(R"("no_rope_layers": 1)"), "KokkosRope: c.json: key 'no_rope_layers' must be a list of 0 and 1"},
      {"H41b", llama4(R"("no_rope_layers": [1, 0])"), "KokkosRope: c.json: key 'no_rope_layers' has 2 entries for num_hidden_layers = 4"},
      {"H41c", llama4(R"("no_rope_layers": [1, 2, 1, 1])"), "KokkosRope: c.json: key 'no_rope_layers[1]' must be 0 (no RoPE) or 1"},
      {"H41d", llama4(R"("no_rope_layer_interval": 0)"), "KokkosRope: c.json: key 'no_rope_layer_interval' must be > 0"},
      {"H42", scaling(R"({"type": "mrope", "mrope_section": []})"),
       "KokkosRope: c.json: key 'rope_scaling.mrope_section' must be a non-empty list of integers"},
      {"H42b", scaling(R"({"type": "mrope", "mrope_section": [33, 0, 0]})"),
       "KokkosRope: c.json: key 'rope_scaling.mrope_section[0]' must be in [0, 32]"},
      {"H42c", scaling(R"({"type": "mrope", "mrope_section": [8, 12, 10]})"),
       "KokkosRope: c.json: key 'rope_scaling.mrope_section' sums to 30, must equal the rotary pairs (rotary_dim / 2 = 32)"},
      {"H43", cfg(head + R"("model_type": "deepseek_v3", "rope_interleave": 1})"), "KokkosRope: c.json: key 'rope_interleave' must be true or false"},
      {"H43b", scaling(R"({"type": "mrope", "mrope_section": [16, 8, 8], "mrope_interleaved": "yes"})"),
       "KokkosRope: c.json: key 'rope_scaling.mrope_interleaved' must be true or false"},
      {"H44", cfg(head + R"("rope_parameters": {"full_attention": {"rope_type": "proportional", "partial_rotary_factor": 2}}})"),
       "KokkosRope: c.json: key 'rope_parameters.full_attention.partial_rotary_factor' must be in [0, 1]"},
      {"H45", cfg(R"({"model_type": "deepseek_v3", "qk_rope_head_dim": 0, "max_position_embeddings": 4096})"),
       "KokkosRope: c.json: key 'qk_rope_head_dim' must be in [1, 2^20]"},
      {"H46", cfg(head + R"("num_hidden_layers": 4, "rope_local_base_freq": 10000, "sliding_window_pattern": 0})"),
       "KokkosRope: c.json: key 'sliding_window_pattern' must be > 0"},
      {"H47b", cfg(R"({"model_type": "clvp_encoder", "hidden_size": 768, "num_attention_heads": 12})"),
       "KokkosRope: c.json: key 'projection_dim' is required (CLVP's rotary dimension derives from it)"},
      {"H47", cfg(R"({"model_type": "gptj", "n_embd": 4096, "n_head": 16, "n_positions": 2048})"),
       "KokkosRope: c.json: key 'rotary_dim' is required (without it the reference's GPT-J attention fails)"},
      {"H48", [=] { parse_model_rope(head + R"("num_hidden_layers": 34})").params("chunked_attention"); },
       "KokkosRope::ModelRope::params: invalid layer type 'chunked_attention': not a layer type of the model"},
      {"H49", [=] { parse_model_rope(head + R"("num_hidden_layers": 34})").params_for_layer(34); },
       "KokkosRope::ModelRope: invalid layer = 34: the model has 34 layers"},
      {"H51", cfg(head + R"("model_type": "ernie4_5_vl_moe_text"})"),
       "KokkosRope: c.json: key 'model_type' ('ernie4_5_vl_moe_text') is not supported: its rotary reorders the frequencies "
       "for 3-D positions (inv_freq_3d in modeling_ernie4_5_vl_moe), a layout Params does not describe"},
      {"H50", [] { ModelRope(HfConfig{}, {{"*", Params{}}}, "x", {}, {}); },
       "KokkosRope::ModelRope: invalid global layer type 'x': has no parameters"},
      {"H50b", [] { ModelRope(HfConfig{}, {{"*", Params{}}}, "*", {"x"}, {}); },
       "KokkosRope::ModelRope: invalid layer_types[0] = 'x': has no parameters"},
      {"H50c", [] { ModelRope(HfConfig{}, {{"*", Params{}}}, "*", {"*", "*"}, {true}); },
       "KokkosRope::ModelRope: invalid uses_rope: 1 entries for 2 layers"},
      {"H52", [=] { mrope_section_of(parse_hf_config(head + R"("num_hidden_layers": 2})")); },
       "KokkosRope::mrope_section_of: invalid mrope_section: has 0 entries, multimodal positions need 3 (temporal, "
       "height, width)"},
  };
  RecordProperty("bad_inputs", run_rows("H", rows));
}

// ---- cos/sin sources and rotations (S and R rows), in every execution space ---------------------
template <class Space>
struct ErrorsKokkos : ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(ErrorsKokkos);

TYPED_TEST(ErrorsKokkos, Sources) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  using V2 = Kokkos::View<float**, Memory>;
  const std::vector<Row> rows = {
      {"S1", [&] { Table<Memory>(space, base(), 0); }, "KokkosRope::Table: invalid num_positions = 0: must be > 0"},
      {"S2", [&] { Table<Memory>(space, base(), std::int64_t(1) << 36); },
       "KokkosRope::Table: invalid num_positions = 68719476736: table would exceed 2^40 entries"},
      {"S3", [&] { Params p = base(); p.rotary_dim = 7; Table<Memory>(space, p, 16); }, "KokkosRope: invalid rotary_dim = 7"},
      {"S4", [&] { Params p = base(); p.theta = 0.5; OnTheFly<Memory>(space, p); }, "KokkosRope: invalid theta = 0.5"},
      {"S5", [&] { OnTheFly<Memory>(space, Frequencies{{}, 1.0}, PairStyle::half_split); },
       "KokkosRope::OnTheFly: invalid inv_freq: empty (rotary_dim / 2 entries needed)"},
      {"S6", [&] { OnTheFly<Memory>(space, Frequencies{{1.0, -0.5}, 1.0}, PairStyle::half_split); },
       "KokkosRope::OnTheFly: invalid inv_freq[1] = -0.500000: must be finite and >= 0"},
      {"S7", [&] { OnTheFly<Memory>(space, FrequenciesF32{{1.0f, std::nanf("")}, 1.0f}, PairStyle::interleaved); },
       "KokkosRope::OnTheFly: invalid inv_freq[1] = nan: must be finite and >= 0"},
      {"S8", [&] { OnTheFly<Memory>(space, Frequencies{{1.0}, 0.0}, PairStyle::half_split); },
       "KokkosRope::OnTheFly: invalid attention_factor = 0.000000: must be finite and > 0"},
      {"S9", [&] { OnTheFly<Memory>(space, FrequenciesF32{{1.0f}, INFINITY}, PairStyle::half_split); },
       "KokkosRope::OnTheFly: invalid attention_factor = inf: must be finite and > 0"},
      {"S10", [&] { CosSinViews<V2>(V2("c", 8, 4), V2("s", 8, 3)); },
       "KokkosRope::CosSinViews: cos and sin extents differ (8x4 vs 8x3)"},
      {"S11", [&] { CosSinViews<V2>(V2("c", 8, 0), V2("s", 8, 0)); },
       "KokkosRope::CosSinViews: rotary_dim / 2 (extent 1) must be > 0"},
  };
  ::testing::Test::RecordProperty("bad_inputs", run_rows("S", rows));
}

TYPED_TEST(ErrorsKokkos, RotationsWriteNothing) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  using V4 = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;  // row-major, as R19-R21 assume
  using V3 = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;
  const Space space;
  const Params p = base();  // head_dim = rotary_dim = 64
  Table<Memory> table(space, p, 16);
  // Every tensor a row may write, filled with a marker; after each row all must be unchanged.
  V4 q("q", 2, 8, 4, 64), k("k", 2, 8, 2, 64), q_out("qo", 2, 8, 4, 64), k_out("ko", 2, 8, 2, 64);
  V3 t("t", 10, 4, 64), tk("tk", 9, 2, 64), t_out("to", 10, 4, 64);
  for (auto* v : {&q, &k, &q_out, &k_out}) Kokkos::deep_copy(*v, 0.25f);
  for (auto* v : {&t, &tk, &t_out}) Kokkos::deep_copy(*v, 0.25f);
  // Rows that force a kernel path the Views cannot take.
  Kokkos::View<float****, Kokkos::LayoutLeft, Memory> q_left("q", 2, 8, 4, 64);
  Kokkos::deep_copy(q_left, 0.25f);
  auto unchanged = [&] {
    bool ok = true;
    auto check = [&](const auto& view) {
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
      for (std::size_t i = 0; i < h.span(); ++i) ok = ok && h.data()[i] == 0.25f;
    };
    check(q), check(k), check(q_out), check(k_out), check(t), check(tk), check(t_out);
    check(q_left);
    return ok;
  };
  Kokkos::View<std::int64_t*, Memory> off2("off", 2), off3("off", 3);
  Kokkos::View<int*, Memory> cu_bad("cu", 3), cu1("cu", 1), tpos9("pos", 9), tpos10("pos", 10);
  Kokkos::View<int**, Memory> pos27("pos", 2, 7), pos_neg("pos", 2, 8);
  Kokkos::deep_copy(Kokkos::subview(off2, 1), 9);  // 9 + 7 = 16: one past the table
  Kokkos::deep_copy(Kokkos::subview(pos_neg, 1, 3), -2);
  Kokkos::deep_copy(Kokkos::subview(cu_bad, 1), 6);
  Kokkos::deep_copy(Kokkos::subview(cu_bad, 2), 4);
  Kokkos::deep_copy(tpos10, 20);
  V4 k_seq("k", 2, 7, 2, 64), k_dim("k", 2, 8, 2, 32), q_small("q", 2, 8, 4, 16), q_long("q", 1, 17, 4, 64),
      k_out_bad("ko", 2, 8, 3, 64);
  // Zero tokens, 2^30 heads each: no memory, yet the head count is checked first.
  V4 q_heads("q", 0, 1, 1 << 30, 64), k_heads("k", 0, 1, 1 << 30, 64);
  // The device default validates in the kernel; these rows ask for the check before it.
  RotateOptions eager;
  eager.validation = Validation::before_kernel;
  const auto forced = [](KernelPath path) {
    RotateOptions o;
    o.kernel_path = path;
    return o;
  };
  Params p6 = p, p8 = p;
  p6.rotary_dim = 6;
  p8.rotary_dim = 8;
  Table<Memory> table6(space, p6, 16), table8(space, p8, 16);
  // Multimodal positions: [3][batch][seq] and [3][tokens]; 32 pairs per stream split 8 + 12 + 12.
  Kokkos::View<int***, Memory> mm2("mm", 2, 2, 8), mm327("mm", 3, 2, 7), mm_far("mm", 3, 2, 8);
  Kokkos::View<int**, Memory> mm39("mm", 3, 9), mm_in_kernel("mm", 3, 10);
  Kokkos::deep_copy(Kokkos::subview(mm_far, 2, 1, 5), 40);  // a width position past the table
  Kokkos::deep_copy(Kokkos::subview(mm_in_kernel, 1, 4), 17);  // a height position past it
  const MropeSection section{8, 12, 12, MropeLayout::interleaved};
  const auto sum_off = [&] { MropeSection s = section; s.width = 11; return s; }();
  const auto negative = [&] { MropeSection s = section; s.height = -1; s.temporal = 21; return s; }();
  const std::vector<Row> rows = {
      {"R1", [&] { rotate(space, bshd, q, k_seq, table); }, "KokkosRope::rotate: k has batch x seq 2 x 7, q has 2 x 8"},
      {"R2", [&] { rotate(space, packed(), t, tk, table); }, "KokkosRope::rotate: k has 9 tokens, q has 10"},
      {"R3", [&] { rotate(space, bshd, q, k_dim, table); }, "KokkosRope::rotate: k head_dim 32 differs from q head_dim 64"},
      {"R4", [&] { rotate_copy(space, bshd, q, k_seq, q_out, k_out, table); },
       "KokkosRope::rotate_copy: k_in has batch x seq 2 x 7, q_in has 2 x 8"},
      {"R5", [&] { rotate(space, bshd, q_small, table); },
       "KokkosRope::rotate: rotary_dim 64 of the cos/sin source exceeds q head_dim 16"},
      {"R6", [&] { rotate(space, bshd, q_heads, k_heads, table); },
       "KokkosRope::rotate: too many heads: 1073741824 + 1073741824"},
      {"R7", [&] { rotate(space, packed(cu1), t, table); }, "KokkosRope::rotate: cu_seqlens needs batch + 1 >= 2 entries, has 1"},
      {"R8", [&] { rotate(space, packed(cu_bad), t, table, ImplicitPositions{}, eager); },
       "KokkosRope::rotate: cu_seqlens must start at 0, never decrease and end at the token count 10"},
      {"R9", [&] { rotate(space, bshd, q, table, sequence_offsets(off3)); }, "KokkosRope::rotate: offsets has 3 entries, batch is 2"},
      {"R10", [&] { rotate(space, bshd, q, k, table, token_positions(pos27)); },
       "KokkosRope::rotate: positions is 2 x 7, q has batch x seq 2 x 8"},
      {"R11", [&] { rotate(space, packed(), t, table, token_positions(tpos9)); },
       "KokkosRope::rotate: positions has 9 entries, q has 10 tokens"},
      {"R12", [&] { rotate(space, bshd, q, k, table, token_positions(pos_neg), eager); }, "KokkosRope::rotate: position -2 is negative"},
      {"R13", [&] { rotate(space, bshd, q, k, table, sequence_offsets(off2), eager); },
       "KokkosRope::rotate: position 16 is past the cos/sin source (16 positions); build the table for more positions"},
      {"R14", [&] { rotate_copy(space, packed(), t, t_out, table, token_positions(tpos10), eager); },
       "KokkosRope::rotate_copy: position 20 is past the cos/sin source (16 positions)"},
      {"R15", [&] { rotate(space, bshd, q_long, table); },
       "KokkosRope::rotate: sequence length 17 is past the cos/sin source (16 positions)"},
      {"R16", [&] { rotate_copy(space, bshd, q, k, q_out, k_out_bad, table); },
       "KokkosRope::rotate_copy: k_out extent(2) = 3 differs from k_in extent(2) = 2"},
      {"R17", [&] { rotate_copy(space, bshd, q, V4("qo", 2, 8, 4, 63), table); },
       "KokkosRope::rotate_copy: q_out extent(3) = 63 differs from q_in extent(3) = 64"},
      {"R18", [&] { rotate(space, bshd, q_left, table, ImplicitPositions{}, forced(KernelPath::host_rows)); },
       "KokkosRope::rotate: kernel_path host_rows needs unit-stride head rows in q and k"},
      {"R19", [&] { rotate(space, bshd, q_left, table, ImplicitPositions{}, forced(KernelPath::vector)); },
       "KokkosRope::rotate: kernel_path vector: head rows must have unit stride and start on 16-byte boundaries"},
      {"R20", [&] { rotate(space, packed(), t, table6, ImplicitPositions{}, forced(KernelPath::vector)); },
       "KokkosRope::rotate: kernel_path vector: the rotary part must be whole 16-byte units (rotary_dim / 2 a "
       "multiple of 16 / sizeof(T) for half_split pairs, rotary_dim for interleaved ones)"},
      {"R21",  // 62 of 64 elements per row: aligned rows, a 54-element tail
       [&] {
         const auto first62 = Kokkos::pair<int, int>(0, 62);
         rotate_copy(space, packed(), Kokkos::subview(t, Kokkos::ALL, Kokkos::ALL, first62),
                     Kokkos::subview(t_out, Kokkos::ALL, Kokkos::ALL, first62), table8, ImplicitPositions{},
                     forced(KernelPath::vector));
       },
       "KokkosRope::rotate_copy: kernel_path vector: the unrotated tail (head_dim - rotary_dim) must be whole "
       "16-byte units"},
      {"R22",
       [&] {
         RotateStatus<Memory> status(space);
         RotateOptions in_kernel;
         in_kernel.validation = Validation::in_kernel;
         rotate(space, packed(), t, table, token_positions(tpos10), in_kernel, status);
         status.check(space);
       },
       "KokkosRope::RotateStatus: 10 token(s) skipped (position past the cos/sin source); first token 0, positions 20 to 20"},
      {"R23", [&] { rotate(space, bshd, q, k, table, multimodal_positions(mm2, section)); },
       "KokkosRope::rotate: multimodal positions has 2 streams, needs 3 (temporal, height, width)"},
      {"R24", [&] { rotate(space, bshd, q, k, table, multimodal_positions(mm327, section)); },
       "KokkosRope::rotate: multimodal positions is 3 x 2 x 7, q has batch x seq 2 x 8"},
      {"R25", [&] { rotate(space, packed(), t, table, multimodal_positions(mm39, section)); },
       "KokkosRope::rotate: multimodal positions is 3 x 9, q has 10 tokens"},
      {"R26", [&] { rotate(space, bshd, q, k, table, multimodal_positions(mm_far, sum_off)); },
       "KokkosRope::rotate: invalid mrope section [8, 12, 11]: sums to 31, the cos/sin source has 32 rotary pairs "
       "(rotary_dim / 2)"},
      {"R27", [&] { rotate(space, bshd, q, k, table, multimodal_positions(mm_far, negative)); },
       "KokkosRope::rotate: invalid mrope section height = -1: must be >= 0"},
      {"R28", [&] { rotate(space, bshd, q, k, table, multimodal_positions(mm_far, section), eager); },
       "KokkosRope::rotate: position 40 is past the cos/sin source (16 positions); build the table for more positions"},
      {"R28b",
       [&] {
         RotateStatus<Memory> status(space);
         RotateOptions in_kernel;
         in_kernel.validation = Validation::in_kernel;
         rotate(space, packed(), t, table, multimodal_positions(mm_in_kernel, section), in_kernel, status);
         status.check(space);
       },
       "KokkosRope::RotateStatus: 1 token(s) skipped (position past the cos/sin source); first token 4, positions 17 to 17"},
  };
  expect_documented("R", rows);
  ::testing::Test::RecordProperty("bad_inputs", run_rows_writing_nothing(rows, unchanged));
}

// ---- serving kernels: rotate_and_cache (K rows), in every execution space -------------------------
TYPED_TEST(ErrorsKokkos, CacheWritesWriteNothing) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  using V3 = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;
  using V4 = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;
  using E4 = Kokkos::View<float8_e4m3****, Kokkos::LayoutRight, Memory>;
  const Space space;
  const Params p = base();  // head_dim = rotary_dim = 64
  Table<Memory> table(space, p, 16);
  // 10 packed tokens (2 sequences of 4 and 6), 4 q heads, 2 kv heads; 2 blocks of 8 slots.
  V3 q("q", 10, 4, 64), k("k", 10, 2, 64), v("v", 10, 2, 64), q_out("qo", 10, 4, 64);
  V3 k9("k", 9, 2, 64), v9("v", 9, 2, 64), v3h("v", 10, 3, 64), q_out_bad("qo", 10, 4, 63);
  V4 kc("kc", 2, 8, 2, 64), vc("vc", 2, 8, 2, 64), vc_blocks("vc", 3, 8, 2, 64), kc_heads("kc", 2, 8, 4, 64),
      kc_dim("kc", 2, 8, 2, 32), vc_dim("vc", 2, 8, 2, 32), kc_empty("kc", 2, 0, 2, 64), vc_empty("vc", 2, 0, 2, 64);
  E4 kc8("kc", 2, 8, 2, 64), vc8("vc", 2, 8, 2, 64);
  Kokkos::View<float****, Kokkos::LayoutLeft, Memory> kc_left("kc", 2, 8, 2, 64);
  for (auto* view : {&q, &k, &v, &q_out}) Kokkos::deep_copy(*view, 0.25f);
  auto unchanged = [&] {
    bool ok = true;
    auto check = [&](const auto& view, float value) {
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), view);
      for (std::size_t i = 0; i < h.span(); ++i) ok = ok && static_cast<float>(h.data()[i]) == value;
    };
    check(q, 0.25f), check(q_out, 0.25f), check(kc, 0.0f), check(vc, 0.0f), check(kc8, 0.0f), check(vc8, 0.0f);
    check(kc_left, 0.0f);
    return ok;
  };
  Kokkos::View<int*, Memory> cu("cu", 3), slots("slots", 10), slots9("slots", 9), slots_far("slots", 10);
  Kokkos::View<int**, Memory> block_table("bt", 2, 2), block_table1("bt", 1, 2), block_table_short("bt", 2, 1);
  Kokkos::View<int*, Memory> lengths("len", 2), lengths3("len", 3);
  Kokkos::View<float*, Memory> w("w", 64), w32("w", 32);
  {
    auto cu_h = Kokkos::create_mirror_view(cu);
    cu_h(0) = 0, cu_h(1) = 4, cu_h(2) = 10;
    Kokkos::deep_copy(cu, cu_h);
    auto s_h = Kokkos::create_mirror(slots);
    for (int t = 0; t < 10; ++t) s_h(t) = t;
    Kokkos::deep_copy(slots, s_h);
    s_h(7) = 16;  // 2 blocks of 8: one past the cache
    Kokkos::deep_copy(slots_far, s_h);
    auto bt_h = Kokkos::create_mirror_view(block_table_short);
    bt_h(0, 0) = 0, bt_h(1, 0) = 1;
    Kokkos::deep_copy(block_table_short, bt_h);
    Kokkos::deep_copy(Kokkos::subview(lengths, 1), 4);  // sequence 1 reaches position 8: a second block
  }
  RotateOptions eager;
  eager.validation = Validation::before_kernel;
  const auto forced = [](KernelPath path) {
    RotateOptions o;
    o.kernel_path = path;
    return o;
  };
  const auto lay = packed(cu);
  const auto cache = paged_kv_cache(cache_nhd, kc, vc);
  const auto map = slot_mapping(slots);
  Params p516 = p;
  p516.head_dim = p516.rotary_dim = 516;
  Table<Memory> table516(space, p516, 16);
  V3 q516("q", 10, 1, 516), k516("k", 10, 1, 516);
  V4 kc516("kc", 2, 8, 1, 516), vc516("vc", 2, 8, 1, 516);
  const std::vector<Row> rows = {
      {"K1", [&] { rotate_and_cache(space, lay, q, k9, v, cache, map, table); },
       "KokkosRope::rotate_and_cache: k has 9 tokens, q has 10"},
      {"K2", [&] { rotate_and_cache(space, lay, q, k, v9, cache, map, table); },
       "KokkosRope::rotate_and_cache: v has 9 tokens, q has 10"},
      {"K3", [&] { rotate_and_cache(space, lay, q, k, v3h, cache, map, table); },
       "KokkosRope::rotate_and_cache: v has 3 heads, k has 2"},
      {"K4", [&] { rotate_copy_and_cache(space, lay, q, q_out_bad, k, v, cache, map, table); },
       "KokkosRope::rotate_copy_and_cache: q_out extent(2) = 63 differs from q_in extent(2) = 64"},
      {"K5", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc, vc_blocks), map, table); },
       "KokkosRope::rotate_and_cache: cache v extent(0) = 3 differs from cache k's 2 (nhd order)"},
      {"K6", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc_heads, kc_heads), map, table); },
       "KokkosRope::rotate_and_cache: cache has 4 kv heads (nhd order), k has 2"},
      {"K6b", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_hnd, kc, vc), map, table); },
       "KokkosRope::rotate_and_cache: cache has 8 kv heads (hnd order), k has 2"},
      {"K7", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc_dim, vc), map, table); },
       "KokkosRope::rotate_and_cache: cache k head_dim 32 differs from k's 64"},
      {"K8", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc, vc_dim), map, table); },
       "KokkosRope::rotate_and_cache: cache v head_dim 32 differs from v's 64"},
      {"K9", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc_empty, vc_empty), map, table); },
       "KokkosRope::rotate_and_cache: cache block_size is 0 (nhd order)"},
      {"K10", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc, vc, 0.5f, 1.0f), map, table); },
       "KokkosRope::rotate_and_cache: k_scale 0.500000 given for a cache that is not fp8 (scales apply to fp8 caches "
       "only)"},
      {"K11", [&] { rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc8, vc8, 1.0f, 0.0f), map, table); },
       "KokkosRope::rotate_and_cache: v_scale 0.000000 of an fp8 cache must be finite and > 0"},
      {"K11b",
       [&] {
         rotate_and_cache(space, lay, q, k, v,
                          paged_kv_cache(cache_nhd, kc8, vc8, std::numeric_limits<float>::infinity(), 1.0f), map,
                          table);
       },
       "KokkosRope::rotate_and_cache: k_scale inf of an fp8 cache must be finite and > 0"},
      {"K12", [&] { rotate_and_cache(space, lay, q, k, v, cache, slot_mapping(slots9), table); },
       "KokkosRope::rotate_and_cache: slot_mapping has 9 entries, q has 10 tokens"},
      {"K13", [&] { rotate_and_cache(space, lay, q, k, v, cache, block_table_slots(block_table1, lengths), table); },
       "KokkosRope::rotate_and_cache: block_table has 1 rows, batch is 2"},
      {"K14", [&] { rotate_and_cache(space, lay, q, k, v, cache, block_table_slots(block_table, lengths3), table); },
       "KokkosRope::rotate_and_cache: cache_lengths has 3 entries, batch is 2"},
      {"K15", [&] { rotate_and_cache(space, lay, qk_norm(w32, w, 1e-6f), q, k, v, cache, map, table); },
       "KokkosRope::rotate_and_cache: qk_norm q_weight has 32 entries, head_dim is 64"},
      {"K15b", [&] { rotate_and_cache(space, lay, qk_norm(w, w32, 1e-6f), q, k, v, cache, map, table); },
       "KokkosRope::rotate_and_cache: qk_norm k_weight has 32 entries, head_dim is 64"},
      {"K16", [&] { rotate_and_cache(space, lay, qk_norm(w, w, 0.0f), q, k, v, cache, map, table); },
       "KokkosRope::rotate_and_cache: qk_norm epsilon 0.000000 must be finite and > 0"},
      {"K17", [&] { rotate_and_cache(space, lay, q, k, v, cache, slot_mapping(slots_far), table, ImplicitPositions{}, eager); },
       "KokkosRope::rotate_and_cache: slot_mapping: token 7 has slot 16, past the cache's 16 slots (2 blocks of 8)"},
      {"K18",
       [&] {
         rotate_and_cache(space, lay, q, k, v, cache, block_table_slots(block_table_short, lengths), table,
                          ImplicitPositions{}, eager);
       },
       "KokkosRope::rotate_and_cache: block_table_slots: token 8 has no block (its cache position cache_lengths(b) + s "
       "is negative or past the block table's 1 blocks per sequence, or its entry is < 0 or >= the cache's 2 blocks)"},
      {"K19", [&] { rotate_and_cache(space, lay, q, k, v, cache, map, table, ImplicitPositions{}, forced(KernelPath::vector)); },
       "KokkosRope::rotate_and_cache: kernel_path vector is not available for rotate_and_cache (lanes is its team "
       "path)"},
  };
  std::vector<Row> all = rows;
  if constexpr (Kokkos::SpaceAccessibility<Space, Kokkos::HostSpace>::accessible) {
    all.push_back({"K20",
                   [&] {
                     rotate_and_cache(space, lay, q, k, v, paged_kv_cache(cache_nhd, kc_left, vc), map, table,
                                      ImplicitPositions{}, forced(KernelPath::host_rows));
                   },
                   "KokkosRope::rotate_and_cache: kernel_path host_rows needs unit-stride head rows in q, k, v and the "
                   "cache"});
    all.push_back({"K21",
                   [&] {
                     rotate_and_cache(space, lay, q516, k516, k516, paged_kv_cache(cache_nhd, kc516, vc516), map,
                                      table516, ImplicitPositions{}, forced(KernelPath::host_rows));
                   },
                   "KokkosRope::rotate_and_cache: kernel_path host_rows takes rotary_dim <= 512 and head_dim <= 1024, the source has rotary_dim 516, q head_dim 516"});
    // The documentation check once per build, where every row is reachable.
    expect_documented("K", all);
  }
  ::testing::Test::RecordProperty("bad_inputs", run_rows_writing_nothing(all, unchanged));
}
