//! Guest programs the discovery tests compile: C++ exceptions (throw,
//! catch, cleanups; hot/cold split landing pads) and a dense switch plus a
//! computed-goto label table, with global asm labels marking each target.

/// `catcher`, `cleanup` and `main` have landing pads; `thrower` a cleanup one.
pub const EXCEPT_CPP: &str = r#"
#include <cstdio>
#include <stdexcept>
__attribute__((noinline)) int thrower(int x) {
    if (x > 2) throw std::runtime_error("big");
    if (x < 0) throw x;
    return x * 2;
}
__attribute__((noinline)) int catcher(int x) {
    try { return thrower(x); }
    catch (const std::runtime_error &e) { std::puts(e.what()); return -1; }
    catch (int v) { return v; }
}
struct Guard { ~Guard() { std::puts("guard"); } };
__attribute__((noinline)) int cleanup(int x) { Guard g; return thrower(x); }
int main(int argc, char **) {
    int s = 0;
    for (int i = -1; i < 5 + argc; i++) {
        s += catcher(i);
        try { s += cleanup(i); } catch (...) { s += 100; }
    }
    std::printf("%d\n", s);
}
"#;

/// `sw_case_K` labels the start of case K; `cg_label_K` the K-th goto label.
pub const SWITCH_C: &str = r#"
#include <stdio.h>
#define CASE(k, e) case k: __asm__ volatile("sw_case_" #k ":"); r = (e); break;
__attribute__((noinline)) unsigned dispatch(unsigned x, int op) {
    unsigned r;
    switch (op) {
    CASE(0, x + 1) CASE(1, x * 3) CASE(2, x ^ 0xdeadbeef) CASE(3, x >> 3)
    CASE(4, x << 5 | x >> 27) CASE(5, x - 77) CASE(6, ~x) CASE(7, x * x)
    CASE(8, x / 7 + 1) CASE(9, x % 1000003) CASE(10, x & 0xff00ff00) CASE(11, x | 0x10001)
    default: r = 0;
    }
    return r;
}
__attribute__((noinline)) int threaded(const unsigned char *code, int n) {
    static const void *labels[] = {&&inc, &&dbl, &&dec, &&end};
    int acc = 0, pc = 0;
    goto *labels[code[pc++] & 3];
inc: __asm__ volatile("cg_label_0:"); acc += 1; if (pc >= n) return acc; goto *labels[code[pc++] & 3];
dbl: __asm__ volatile("cg_label_1:"); acc *= 2; if (pc >= n) return acc; goto *labels[code[pc++] & 3];
dec: __asm__ volatile("cg_label_2:"); acc -= 3; if (pc >= n) return acc; goto *labels[code[pc++] & 3];
end: __asm__ volatile("cg_label_3:"); return acc;
}
int main(int argc, char **argv) {
    unsigned x = 1;
    for (int i = 0; i < argc * 100; i++) x = dispatch(x, (int)(x % 13));
    printf("%u %d\n", x, threaded((const unsigned char *)argv[0], 4));
    return 0;
}
"#;
