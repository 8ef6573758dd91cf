// except: C++ exceptions thrown through several frames with destructors to
// run, rethrow, catch by base class, nested try blocks, exceptions from
// constructors, std::string/std::vector/std::map and virtual dispatch. The
// unwinder walks .eh_frame and reads return addresses from the guest stack;
// landing pads are reached only through .gcc_except_table.
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

static std::vector<std::string> log_lines;

struct Tracer {
    std::string name;
    explicit Tracer(std::string n) : name(std::move(n)) { log_lines.push_back("ctor " + name); }
    ~Tracer() { log_lines.push_back("dtor " + name); }
};

struct AppError : std::runtime_error {
    int code;
    AppError(const std::string &what, int c) : std::runtime_error(what), code(c) {}
};
struct DeepError : AppError {
    int depth;
    DeepError(int d) : AppError("deep error at depth " + std::to_string(d), 100 + d), depth(d) {}
};

static void level(int n, int throw_at)
{
    Tracer t("level" + std::to_string(n));
    if (n == throw_at) throw DeepError(n);
    if (n > 0) level(n - 1, throw_at);
}

static int rethrower(int kind)
{
    Tracer t("rethrower");
    try {
        switch (kind) {
        case 0: throw 42;
        case 1: throw std::string("a string");
        case 2: throw AppError("app", 7);
        case 3: throw std::out_of_range("range");
        default: return -1;
        }
    } catch (int v) {
        log_lines.push_back("caught int " + std::to_string(v) + ", rethrowing");
        throw;
    } catch (const std::exception &e) {
        log_lines.push_back(std::string("caught std::exception: ") + e.what());
        throw std::logic_error(std::string("wrapped ") + e.what());
    } catch (...) {
        log_lines.push_back("caught something else");
        return 1;
    }
}

struct Shape {
    virtual ~Shape() {}
    virtual double area() const = 0;
    virtual const char *name() const = 0;
};
struct Rect : Shape {
    double w, h;
    Rect(double a, double b) : w(a), h(b) {}
    double area() const override { return w * h; }
    const char *name() const override { return "rect"; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double x) : r(x)
    {
        if (x < 0) throw std::invalid_argument("negative radius");
    }
    double area() const override { return 3.0 * r * r; }
    const char *name() const override { return "circle"; }
};

static void flush_log()
{
    for (const auto &l : log_lines) std::printf("  %s\n", l.c_str());
    log_lines.clear();
}

int main()
{
    for (int at = 0; at <= 4; at += 2) {
        try {
            level(4, at);
        } catch (const DeepError &e) {
            std::printf("caught DeepError depth %d code %d what [%s]\n", e.depth, e.code, e.what());
        }
        flush_log();
    }
    try {
        level(3, -1);
        std::printf("no throw\n");
    } catch (...) {
        std::printf("unexpected\n");
    }
    flush_log();
    for (int kind = 0; kind <= 4; kind++) {
        try {
            int r = rethrower(kind);
            std::printf("rethrower(%d) returned %d\n", kind, r);
        } catch (int v) {
            std::printf("rethrower(%d) threw int %d\n", kind, v);
        } catch (const std::logic_error &e) {
            std::printf("rethrower(%d) threw logic_error [%s]\n", kind, e.what());
        }
        flush_log();
    }
    std::vector<std::unique_ptr<Shape>> shapes;
    double radii[] = {1.0, 2.0, -1.0, 3.0};
    for (double r : radii) {
        try {
            shapes.emplace_back(new Rect(r, r + 1));
            shapes.emplace_back(new Circle(r));
        } catch (const std::invalid_argument &e) {
            std::printf("constructor threw [%s]\n", e.what());
        }
    }
    for (const auto &s : shapes) std::printf("%s area %.2f\n", s->name(), s->area());
    std::map<std::string, int> counts;
    const char *words[] = {"b", "a", "c", "a", "b", "a"};
    for (const char *w : words) counts[w]++;
    for (const auto &kv : counts) std::printf("count %s = %d\n", kv.first.c_str(), kv.second);
    try {
        std::vector<int> v(3);
        v.at(10) = 1;
    } catch (const std::out_of_range &) {
        std::printf("vector::at threw out_of_range\n");
    }
    int caught = 0;
    for (int i = 0; i < 1000; i++) {
        try {
            if (i % 3 == 0) throw i;
        } catch (int) {
            caught++;
        }
    }
    std::printf("caught %d exceptions in a loop\n", caught);
    return 0;
}
