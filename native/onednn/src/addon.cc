// nnuc native fast path: oneDNN convolutions (forward, backward-data, backward-weights) in NDHWC with
// tfjs's DHWIO filters, and a fused InstanceNorm + LeakyReLU (forward and backward), for the 'onednn'
// tfjs backend (runtime/backends/onednn.ts). 2D convolutions are passed as 3D with depth 1.
//
// Geometry array (24 integers, tfjs conventions):
//   [N, ID, IH, IW, IC, OC, OD, OH, OW, KD, KH, KW, sD, sH, sW, pFront, pTop, pLeft, pBack, pBottom, pRight,
//    dD, dH, dW]   (dilations >= 1 as in tfjs; oneDNN counts them from 0)
#include <napi.h>
#include <dnnl.hpp>
#include <omp.h>
#include <malloc.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include <atomic>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

engine &eng() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
stream &strm() {
  static stream s(eng());
  return s;
}

bool g_mallocTuned = false;

// 1 (default): keep NDHWC for src/dst (no reorders; measured faster here); 0: let oneDNN choose (blocked) layouts and reorder.
int g_layout = 1;

struct Geom {
  memory::dim N, ID, IH, IW, IC, OC, OD, OH, OW, KD, KH, KW, sD, sH, sW, pF, pT, pL, pBk, pBo, pR, dD, dH, dW;
  memory::dims src() const { return {N, IC, ID, IH, IW}; }
  memory::dims dst() const { return {N, OC, OD, OH, OW}; }
  memory::dims wei() const { return {OC, IC, KD, KH, KW}; }
  memory::dims strides() const { return {sD, sH, sW}; }
  memory::dims dil() const { return {dD - 1, dH - 1, dW - 1}; }
  memory::dims padL() const { return {pF, pT, pL}; }
  memory::dims padR() const { return {pBk, pBo, pR}; }
  std::string key(char kind) const {
    std::string k(1, kind);
    const memory::dim *p = &N;
    for (int i = 0; i < 24; i++) k += "," + std::to_string(p[i]);
    k += g_layout ? "n" : "a";
    return k;
  }
};

Geom readGeom(const Napi::Value &v) {
  auto a = v.As<Napi::Int32Array>();
  if (a.ElementLength() != 24) throw Napi::Error::New(v.Env(), "geometry must have 24 integers");
  Geom g;
  memory::dim *p = &g.N;
  for (int i = 0; i < 24; i++) p[i] = a.Data()[i];
  return g;
}

float *f32(const Napi::Value &v, size_t expect, const char *what) {
  auto a = v.As<Napi::Float32Array>();
  if (a.ElementLength() != expect)
    throw Napi::Error::New(v.Env(), std::string(what) + ": expected " + std::to_string(expect) + " elements, got " +
                                        std::to_string(a.ElementLength()));
  return a.Data();
}

// A user buffer in a fixed layout, plus (when the primitive wants another layout) a cached scratch
// memory and the reorder between them.
struct Port {
  memory::desc user, prim;
  bool same = true;
  memory scratch;
  void init(const memory::desc &u, const memory::desc &p) {
    user = u;
    prim = p;
    same = (u == p);
    if (!same) scratch = memory(p, eng());
  }
  // For an input: returns the memory the primitive reads.
  memory in(float *ptr) {
    memory um(user, eng(), ptr);
    if (same) return um;
    reorder(um, scratch).execute(strm(), um, scratch);
    return scratch;
  }
  memory outMem(float *ptr) {
    if (same) return memory(user, eng(), ptr);
    return scratch;
  }
  void outDone(float *ptr) {
    if (same) return;
    memory um(user, eng(), ptr);
    reorder(scratch, um).execute(strm(), scratch, um);
  }
};

// ---- Output buffers ----
// Outputs are ordinary V8 typed arrays: V8 frees their memory during garbage collection (finalizers of
// external buffers would only run on a later event-loop turn, so a synchronous training step would keep every
// intermediate alive). Large first-touch page faults are avoided by tuneMalloc() below: glibc serves the
// backing stores from its heap, so freed tensor memory is reused already faulted in.
Napi::Float32Array allocF32(Napi::Env env, size_t n, bool zero = false) {
  (void)zero;  // V8 zero-fills
  return Napi::Float32Array::New(env, n);
}

Napi::Value Alloc(const Napi::CallbackInfo &info) {
  const bool zero = info.Length() > 1 && info[1].ToBoolean().Value();
  return allocF32(info.Env(), (size_t)info[0].As<Napi::Number>().Int64Value(), zero);
}

memory::desc userAct(const memory::dims &d) { return memory::desc(d, dt::f32, tag::ndhwc); }
memory::desc userWei(const memory::dims &d) { return memory::desc(d, dt::f32, tag::dhwio); }
memory::desc anyAct(const memory::dims &d) {
  return g_layout ? memory::desc(d, dt::f32, tag::ndhwc) : memory::desc(d, dt::f32, tag::any);
}

convolution_forward::primitive_desc fwdPd(const Geom &g, bool bias) {
  memory::desc src = anyAct(g.src()), dst = anyAct(g.dst());
  memory::desc w(g.wei(), dt::f32, tag::any);
  if (bias) {
    memory::desc b({g.OC}, dt::f32, tag::x);
    convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, src, w, b, dst,
                                g.strides(), g.dil(), g.padL(), g.padR());
    return convolution_forward::primitive_desc(d, eng());
  }
  convolution_forward::desc d(prop_kind::forward_training, algorithm::convolution_direct, src, w, dst, g.strides(),
                              g.dil(), g.padL(), g.padR());
  return convolution_forward::primitive_desc(d, eng());
}

struct FwdEntry {
  convolution_forward prim;
  Port src, wei, dst;
  bool bias;
};
struct BwdDataEntry {
  convolution_backward_data prim;
  Port dsrc, wei, ddst;
};
struct BwdWeiEntry {
  convolution_backward_weights prim;
  Port src, dwei, ddst;
};

std::unordered_map<std::string, std::shared_ptr<FwdEntry>> g_fwd;
std::unordered_map<std::string, std::shared_ptr<BwdDataEntry>> g_bwdd;
std::unordered_map<std::string, std::shared_ptr<BwdWeiEntry>> g_bwdw;

std::shared_ptr<FwdEntry> getFwd(const Geom &g, bool bias) {
  std::string k = g.key(bias ? 'F' : 'f');
  auto it = g_fwd.find(k);
  if (it != g_fwd.end()) return it->second;
  auto pd = fwdPd(g, bias);
  auto e = std::make_shared<FwdEntry>();
  e->prim = convolution_forward(pd);
  e->src.init(userAct(g.src()), pd.src_desc());
  e->wei.init(userWei(g.wei()), pd.weights_desc());
  e->dst.init(userAct(g.dst()), pd.dst_desc());
  e->bias = bias;
  g_fwd[k] = e;
  return e;
}

std::shared_ptr<BwdDataEntry> getBwdData(const Geom &g) {
  std::string k = g.key('d');
  auto it = g_bwdd.find(k);
  if (it != g_bwdd.end()) return it->second;
  auto hint = fwdPd(g, false);
  memory::desc dsrc = anyAct(g.src()), ddst = anyAct(g.dst());
  memory::desc w(g.wei(), dt::f32, tag::any);
  convolution_backward_data::desc d(algorithm::convolution_direct, dsrc, w, ddst, g.strides(), g.dil(), g.padL(),
                                    g.padR());
  convolution_backward_data::primitive_desc pd(d, eng(), hint);
  auto e = std::make_shared<BwdDataEntry>();
  e->prim = convolution_backward_data(pd);
  e->dsrc.init(userAct(g.src()), pd.diff_src_desc());
  e->wei.init(userWei(g.wei()), pd.weights_desc());
  e->ddst.init(userAct(g.dst()), pd.diff_dst_desc());
  g_bwdd[k] = e;
  return e;
}

std::shared_ptr<BwdWeiEntry> getBwdWei(const Geom &g) {
  std::string k = g.key('w');
  auto it = g_bwdw.find(k);
  if (it != g_bwdw.end()) return it->second;
  auto hint = fwdPd(g, false);
  memory::desc src = anyAct(g.src()), ddst = anyAct(g.dst());
  memory::desc w(g.wei(), dt::f32, tag::any);
  convolution_backward_weights::desc d(algorithm::convolution_direct, src, w, ddst, g.strides(), g.dil(), g.padL(),
                                       g.padR());
  convolution_backward_weights::primitive_desc pd(d, eng(), hint);
  auto e = std::make_shared<BwdWeiEntry>();
  e->prim = convolution_backward_weights(pd);
  e->src.init(userAct(g.src()), pd.src_desc());
  e->dwei.init(userWei(g.wei()), pd.diff_weights_desc());
  e->ddst.init(userAct(g.dst()), pd.diff_dst_desc());
  g_bwdw[k] = e;
  return e;
}

size_t nSrc(const Geom &g) { return (size_t)g.N * g.ID * g.IH * g.IW * g.IC; }
size_t nDst(const Geom &g) { return (size_t)g.N * g.OD * g.OH * g.OW * g.OC; }
size_t nWei(const Geom &g) { return (size_t)g.KD * g.KH * g.KW * g.IC * g.OC; }

#define GUARD_BEGIN try {
#define GUARD_END                                                                              \
  }                                                                                            \
  catch (const dnnl::error &e) {                                                               \
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what() + " (status " +      \
                                           std::to_string((int)e.status) + ")");               \
  }

// convForward(geom, x, w, bias|null) -> y
Napi::Value ConvForward(const Napi::CallbackInfo &info) {
  GUARD_BEGIN
  Geom g = readGeom(info[0]);
  float *x = f32(info[1], nSrc(g), "x");
  float *w = f32(info[2], nWei(g), "filter");
  bool hasBias = info.Length() > 3 && info[3].IsTypedArray();
  float *b = hasBias ? f32(info[3], g.OC, "bias") : nullptr;
  auto y = allocF32(info.Env(), nDst(g));
  auto e = getFwd(g, hasBias);
  std::unordered_map<int, memory> args;
  args[DNNL_ARG_SRC] = e->src.in(x);
  args[DNNL_ARG_WEIGHTS] = e->wei.in(w);
  if (hasBias) args[DNNL_ARG_BIAS] = memory(memory::desc({g.OC}, dt::f32, tag::x), eng(), b);
  args[DNNL_ARG_DST] = e->dst.outMem(y.Data());
  e->prim.execute(strm(), args);
  e->dst.outDone(y.Data());
  strm().wait();
  return y;
  GUARD_END
}

// convBackwardData(geom, dy, w) -> dx
Napi::Value ConvBackwardData(const Napi::CallbackInfo &info) {
  GUARD_BEGIN
  Geom g = readGeom(info[0]);
  float *dy = f32(info[1], nDst(g), "dy");
  float *w = f32(info[2], nWei(g), "filter");
  auto dx = allocF32(info.Env(), nSrc(g));
  auto e = getBwdData(g);
  std::unordered_map<int, memory> args;
  args[DNNL_ARG_DIFF_DST] = e->ddst.in(dy);
  args[DNNL_ARG_WEIGHTS] = e->wei.in(w);
  args[DNNL_ARG_DIFF_SRC] = e->dsrc.outMem(dx.Data());
  e->prim.execute(strm(), args);
  e->dsrc.outDone(dx.Data());
  strm().wait();
  return dx;
  GUARD_END
}

// convBackwardWeights(geom, x, dy) -> dw
Napi::Value ConvBackwardWeights(const Napi::CallbackInfo &info) {
  GUARD_BEGIN
  Geom g = readGeom(info[0]);
  float *x = f32(info[1], nSrc(g), "x");
  float *dy = f32(info[2], nDst(g), "dy");
  auto dw = allocF32(info.Env(), nWei(g));
  auto e = getBwdWei(g);
  std::unordered_map<int, memory> args;
  args[DNNL_ARG_SRC] = e->src.in(x);
  args[DNNL_ARG_DIFF_DST] = e->ddst.in(dy);
  args[DNNL_ARG_DIFF_WEIGHTS] = e->dwei.outMem(dw.Data());
  e->prim.execute(strm(), args);
  e->dwei.outDone(dw.Data());
  strm().wait();
  return dw;
  GUARD_END
}

// ---- InstanceNorm (+ LeakyReLU) over channels-last data [N, S, C] ----

// instanceNormForward(x, N, S, C, gamma, beta, eps, slope) -> [y, mean(N*C), rstd(N*C)]
Napi::Value InstanceNormForward(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const int64_t N = info[1].As<Napi::Number>().Int64Value();
  const int64_t S = info[2].As<Napi::Number>().Int64Value();
  const int64_t C = info[3].As<Napi::Number>().Int64Value();
  const float *x = f32(info[0], (size_t)(N * S * C), "x");
  const float *gamma = f32(info[4], C, "gamma");
  const float *beta = f32(info[5], C, "beta");
  const double eps = info[6].As<Napi::Number>().DoubleValue();
  const float slope = (float)info[7].As<Napi::Number>().DoubleValue();
  auto yA = allocF32(env, N * S * C);
  auto meanA = Napi::Float32Array::New(env, N * C);
  auto rstdA = Napi::Float32Array::New(env, N * C);
  float *y = yA.Data(), *mean = meanA.Data(), *rstd = rstdA.Data();
  const int T = omp_get_max_threads();
  std::vector<double> acc((size_t)T * C);
  for (int64_t n = 0; n < N; n++) {
    const float *xn = x + n * S * C;
    float *yn = y + n * S * C;
    // mean
    std::fill(acc.begin(), acc.end(), 0.0);
#pragma omp parallel
    {
      double *a = acc.data() + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
      for (int64_t s = 0; s < S; s++) {
        const float *p = xn + s * C;
        for (int64_t c = 0; c < C; c++) a[c] += p[c];
      }
    }
    for (int64_t c = 0; c < C; c++) {
      double m = 0;
      for (int t = 0; t < T; t++) m += acc[(size_t)t * C + c];
      mean[n * C + c] = (float)(m / S);
    }
    // variance (two-pass, biased)
    std::fill(acc.begin(), acc.end(), 0.0);
    const float *mn = mean + n * C;
#pragma omp parallel
    {
      double *a = acc.data() + (size_t)omp_get_thread_num() * C;
#pragma omp for schedule(static)
      for (int64_t s = 0; s < S; s++) {
        const float *p = xn + s * C;
        for (int64_t c = 0; c < C; c++) {
          const float d = p[c] - mn[c];
          a[c] += (double)d * d;
        }
      }
    }
    std::vector<float> scale(C), shift(C);
    for (int64_t c = 0; c < C; c++) {
      double v = 0;
      for (int t = 0; t < T; t++) v += acc[(size_t)t * C + c];
      const float r = (float)(1.0 / std::sqrt(v / S + eps));
      rstd[n * C + c] = r;
      scale[c] = r * gamma[c];
      shift[c] = beta[c] - mn[c] * r * gamma[c];
    }
    const float *sc = scale.data(), *sh = shift.data();
#pragma omp parallel for schedule(static)
    for (int64_t s = 0; s < S; s++) {
      const float *p = xn + s * C;
      float *q = yn + s * C;
      for (int64_t c = 0; c < C; c++) {
        const float z = p[c] * sc[c] + sh[c];
        q[c] = z > 0.f ? z : z * slope;
      }
    }
  }
  auto out = Napi::Array::New(env, 3);
  out.Set((uint32_t)0, yA);
  out.Set((uint32_t)1, meanA);
  out.Set((uint32_t)2, rstdA);
  return out;
}

// instanceNormBackward(dy, x, N, S, C, mean, rstd, gamma, beta, slope) -> [dx, dgamma, dbeta]
Napi::Value InstanceNormBackward(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const int64_t N = info[2].As<Napi::Number>().Int64Value();
  const int64_t S = info[3].As<Napi::Number>().Int64Value();
  const int64_t C = info[4].As<Napi::Number>().Int64Value();
  const float *dy = f32(info[0], (size_t)(N * S * C), "dy");
  const float *x = f32(info[1], (size_t)(N * S * C), "x");
  const float *mean = f32(info[5], N * C, "mean");
  const float *rstd = f32(info[6], N * C, "rstd");
  const float *gamma = f32(info[7], C, "gamma");
  const float *beta = f32(info[8], C, "beta");
  const float slope = (float)info[9].As<Napi::Number>().DoubleValue();
  auto dxA = allocF32(env, N * S * C);
  auto dgA = Napi::Float32Array::New(env, C);
  auto dbA = Napi::Float32Array::New(env, C);
  float *dx = dxA.Data();
  std::vector<double> dgamma(C, 0.0), dbeta(C, 0.0);
  const int T = omp_get_max_threads();
  std::vector<double> acc((size_t)T * 2 * C);
  for (int64_t n = 0; n < N; n++) {
    const float *xn = x + n * S * C, *dyn = dy + n * S * C;
    float *dxn = dx + n * S * C;
    const float *mn = mean + n * C, *rs = rstd + n * C;
    std::fill(acc.begin(), acc.end(), 0.0);
#pragma omp parallel
    {
      double *a = acc.data() + (size_t)omp_get_thread_num() * 2 * C;  // [sum dz, sum dz*xhat]
#pragma omp for schedule(static)
      for (int64_t s = 0; s < S; s++) {
        const float *p = xn + s * C, *g = dyn + s * C;
        for (int64_t c = 0; c < C; c++) {
          const float xh = (p[c] - mn[c]) * rs[c];
          const float z = xh * gamma[c] + beta[c];
          const float dz = z > 0.f ? g[c] : g[c] * slope;
          a[c] += dz;
          a[C + c] += (double)dz * xh;
        }
      }
    }
    std::vector<float> k1(C), k2(C);
    for (int64_t c = 0; c < C; c++) {
      double sdz = 0, sdzx = 0;
      for (int t = 0; t < T; t++) {
        sdz += acc[(size_t)t * 2 * C + c];
        sdzx += acc[(size_t)t * 2 * C + C + c];
      }
      dbeta[c] += sdz;
      dgamma[c] += sdzx;
      k1[c] = (float)(sdz / S);
      k2[c] = (float)(sdzx / S);
    }
    const float *m1 = k1.data(), *m2 = k2.data();
#pragma omp parallel for schedule(static)
    for (int64_t s = 0; s < S; s++) {
      const float *p = xn + s * C, *g = dyn + s * C;
      float *q = dxn + s * C;
      for (int64_t c = 0; c < C; c++) {
        const float xh = (p[c] - mn[c]) * rs[c];
        const float z = xh * gamma[c] + beta[c];
        const float dz = z > 0.f ? g[c] : g[c] * slope;
        q[c] = rs[c] * gamma[c] * (dz - m1[c] - xh * m2[c]);
      }
    }
  }
  for (int64_t c = 0; c < C; c++) {
    dgA.Data()[c] = (float)dgamma[c];
    dbA.Data()[c] = (float)dbeta[c];
  }
  auto out = Napi::Array::New(env, 3);
  out.Set((uint32_t)0, dxA);
  out.Set((uint32_t)1, dgA);
  out.Set((uint32_t)2, dbA);
  return out;
}

Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  const dnnl_version_t *v = dnnl_version();
  o.Set("dnnl", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", (int)get_effective_cpu_isa());
  o.Set("layout", g_layout ? "ndhwc" : "any");
  o.Set("mallocTuned", g_mallocTuned);
  o.Set("cachedPrimitives", (double)(g_fwd.size() + g_bwdd.size() + g_bwdw.size()));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  omp_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value SetLayout(const Napi::CallbackInfo &info) {
  g_layout = info[0].As<Napi::Number>().Int32Value();
  return info.Env().Undefined();
}

Napi::Value ClearCache(const Napi::CallbackInfo &info) {
  g_fwd.clear();
  g_bwdd.clear();
  g_bwdw.clear();
  return info.Env().Undefined();
}

// Large buffers from glibc come from fresh mmap()s by default, and on virtual machines with slow page
// faults first-touching a 64 MB tensor costs ~1 s (measured here: 1 s vs 70 ms for the same loop on
// touched memory). Serving every allocation from the heap and never trimming it lets freed tensor memory be
// reused without page faults. Process-wide; NNUC_MALLOC_TUNE=0 turns it off.
void tuneMalloc() {
  const char *e = getenv("NNUC_MALLOC_TUNE");
  if (e && e[0] == '0') return;
  g_mallocTuned = mallopt(M_MMAP_MAX, 0) == 1;
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // keep up to 1 GB of freed top-of-heap memory
  mallopt(M_TOP_PAD, 64 << 20);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  exports.Set("convForward", Napi::Function::New(env, ConvForward));
  exports.Set("convBackwardData", Napi::Function::New(env, ConvBackwardData));
  exports.Set("convBackwardWeights", Napi::Function::New(env, ConvBackwardWeights));
  exports.Set("instanceNormForward", Napi::Function::New(env, InstanceNormForward));
  exports.Set("instanceNormBackward", Napi::Function::New(env, InstanceNormBackward));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("alloc", Napi::Function::New(env, Alloc));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setLayout", Napi::Function::New(env, SetLayout));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache));
  return exports;
}

}  // namespace

NODE_API_MODULE(nnuc_onednn, Init)
