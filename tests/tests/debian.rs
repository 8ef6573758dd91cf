//! Real legacy programs that no one in this project wrote: Debian's i386
//! `busybox-static` and `bash-static`, each running a shell script natively,
//! translated (`rehost translate`, run under `no-ia32`) and under `rehost run`
//! (also under `no-ia32`). The native run is the oracle: each port must print
//! the same stdout, exit with the same status and, for busybox, leave the
//! same files behind (path, type, mode and contents).
//!
//! The packages come from `apt-get download PKG:i386` into
//! `build/debian/debs/` and are unpacked with `dpkg-deb -x` into
//! `build/debian/PKG/`; both are reused by later runs (delete
//! `build/debian/` to fetch again). If i386 is not a dpkg foreign
//! architecture it is added (`dpkg --add-architecture i386 && apt-get
//! update`, which needs root). When apt, dpkg-deb or the network is not
//! available the tests print `skipped: ...` on stderr and pass: that is the
//! only way they skip.
//!
//! Every run gets a fresh empty working directory and only the environment
//! `PATH=/nonexistent LC_ALL=C TZ=UTC0`, so the scripts can only use shell
//! builtins and busybox applets (Debian builds busybox-static with
//! `FEATURE_SH_STANDALONE`: its shell runs applets in-process or by
//! re-executing `/proc/self/exe` with the applet's name as argv[0]), never a
//! host tool. Busybox picks its applet from argv[0], so the translated binary
//! is named `busybox` and `rehost run` gets a symlink named `busybox`.
//!
//! The checks are labelled `debian-busybox [translated]`,
//! `debian-bash [rehost run]`, ... and can be listed in `tests/known-failures`
//! like a guest's; `REHOST_TEST_MODES`, `REHOST_TEST_PASS_ENV` and
//! `REHOST_TEST_KEEP` work as for the guests.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rehost_tests::{
    describe_status, first_difference, indent_tail, rehost_bin, report, run_with_timeout,
    selected_modes, translate, workspace_root, Checked, Failure, Mode, Outcome, TempDir,
    RUN_TIMEOUT,
};

/// `apt-get download` and `dpkg-deb -x` are killed after this.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// `apt-get update` is killed after this.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(180);

/// The complete environment of every run (native and ports).
const SCRIPT_ENV: &[(&str, &str)] = &[("PATH", "/nonexistent"), ("LC_ALL", "C"), ("TZ", "UTC0")];

/// Run by `busybox sh`: text tools, a loop with arithmetic, files in a
/// directory tree, tar + gzip there and back, pipes and command
/// substitution. Exits 3 after printing `== done`.
const BUSYBOX_SCRIPT: &str = r##"set -e
umask 022
mkdir -p work/src/sub work/out
cd work
# A while loop with arithmetic, writing a file.
i=0
total=0
while [ $i -lt 600 ]; do
    i=$((i + 1))
    total=$((total + i * i % 97))
    if [ $((i % 100)) -eq 0 ]; then
        echo "line $i total $total" >> src/numbers.txt
    fi
done
echo "loop: i=$i total=$total"
n=0
for w in alpha beta gamma delta epsilon zeta eta theta; do
    n=$((n + 1))
    printf '%s,%d,%s\n' "$w" $((n * 7 % 5)) "$(echo "$w" | tr a-z A-Z)" >> src/table.csv
done
seq 1 50 | awk '{ s += $1; if ($1 % 10 == 0) print "awk", $1, s }' > src/sub/awk.txt
printf 'zeta\nalpha\nMike\nbravo\nalpha\n10\n9\n' > src/sub/words
echo "== csv"
cat src/table.csv
echo "== sort -t, -k2n"
sort -t, -k2,2n -k1,1 src/table.csv
echo "== cut / tr"
cut -d, -f1,3 src/table.csv | tr ',' ' ' | tr -s 'aeiou' '*'
echo "== sed"
sed -n -e 's/^\([a-z]*\),\([0-9]\),.*/\2:\1/p' src/table.csv | sed '3,5d; $a\
end'
echo "== awk"
awk -F, '{ sum[$2] += length($1); names[$2] = names[$2] " " $1 }
         END { for (k = 0; k < 5; k++) if (k in sum) printf "%d %d%s\n", k, sum[k], names[k] }' src/table.csv
cat src/sub/awk.txt
echo "== sort/uniq"
sort src/sub/words | uniq -c
sort -rn src/sub/words | head -3
echo "== wc"
wc -l src/table.csv src/numbers.txt | sed 's/  */ /g'
printf 'words: %s chars: %s\n' "$(cat src/sub/words | wc -w)" "$(wc -c < src/table.csv)"
echo "== find"
find src -type f | sort
find src -name '*.txt' -type f | wc -l
echo "== tar + gzip"
touch -t 202001020304.05 src/numbers.txt src/table.csv src/sub/awk.txt src/sub/words src/sub src
tar -cf out/src.tar src
gzip -c out/src.tar > out/src.tar.gz
gzip -9 -c < src/table.csv > out/table.csv.gz
tar -tvf out/src.tar | awk '{ print $1, $3, $4, $5, $6 }' | sort
mkdir unpack
cd unpack
gzip -dc ../out/src.tar.gz | tar -xf -
cd ..
echo "== md5sum"
md5sum src/table.csv src/numbers.txt unpack/src/sub/words | sed 's/  */ /'
( cd src && find . -type f | sort | xargs md5sum ) > out/src.md5
( cd unpack/src && find . -type f | sort | while read f; do md5sum "$f"; done ) > out/unpack.md5
cmp out/src.md5 out/unpack.md5 && echo "unpacked the same $(wc -l < out/unpack.md5) files"
zcat out/table.csv.gz | md5sum | cut -c1-32
echo "== command substitution"
count=$(find . -type f | wc -l)
echo "files: $count"
last=$(tail -n 1 src/numbers.txt | cut -d' ' -f4)
echo "last total: $last, doubled: $((last * 2))"
x=$( (echo sub; echo shell) | tr '\n' + )
echo "subshell: $x"
echo "== done"
exit 3
"##;

/// Run by `bash-static`: a 20000-iteration arithmetic loop, a function
/// called in a loop, recursion through command substitution, string
/// operations, indexed and associative arrays, pipelines of builtins and
/// functions, subshells inside `$(...)`, here-documents and here-strings,
/// `case` and `[[ =~ ]]`, an EXIT trap. Exits 5 after `exiting with 5`.
const BASH_SCRIPT: &str = r##"set -u
shopt -s extglob
# Arithmetic loop.
sum=0; x=1
for ((i = 1; i <= 20000; i++)); do
    (( sum += i * i % 1009 ))
    (( x = (x * 31 + i) % 65521 ))
done
echo "sum=$sum x=$x"
# Collatz lengths: a function and a while loop.
collatz() {
    local n=$1 steps=0
    while (( n != 1 )); do
        if (( n % 2 )); then (( n = 3 * n + 1 )); else (( n /= 2 )); fi
        (( steps++ ))
    done
    REPLY=$steps
}
best=0; arg=0
for n in {1..1000}; do
    collatz "$n"
    if (( REPLY > best )); then best=$REPLY; arg=$n; fi
done
echo "collatz: longest below 1000 is $arg with $best steps"
echo "collatz(27) by substitution: $(collatz 27; echo "$REPLY")"
# Recursion through command substitution (a fork per call).
fib() { if (( $1 < 2 )); then echo "$1"; else echo $(( $(fib $(( $1 - 1 ))) + $(fib $(( $1 - 2 ))) )); fi; }
echo "fib(10)=$(fib 10)"
# Strings.
s="The quick brown fox jumps over the lazy dog"
echo "len=${#s} upper=${s^^} lower=${s,,}"
echo "sub=${s:4:5} repl=${s//o/0} strip=${s#* } rstrip=${s% *} pat=${s//+([aeiou])/_}"
words=($s)
echo "words=${#words[@]} third=${words[2]} last=${words[-1]}"
rev=""
for ((i = ${#s} - 1; i >= 0; i--)); do rev+="${s:i:1}"; done
echo "reversed: $rev"
printf -v padded '%-8s|%5d|%05.1f|%x' abc 42 3.14159 255
echo "printf: $padded"
# Arrays.
declare -a arr=()
for ((i = 0; i < 40; i++)); do arr+=($(( (i * 37 + 11) % 101 ))); done
echo "arr: ${arr[*]:0:10} ... (${#arr[@]} items)"
n=${#arr[@]}
for ((i = 0; i < n; i++)); do
    for ((j = 0; j < n - i - 1; j++)); do
        if (( arr[j] > arr[j + 1] )); then t=${arr[j]}; arr[j]=${arr[j+1]}; arr[j+1]=$t; fi
    done
done
echo "sorted: ${arr[*]}"
declare -A color=([apple]=red [banana]=yellow [grape]=purple [lime]=green)
sorted_keys() {
    local a=() w i j t
    while read -r w; do a+=("$w"); done
    for ((i = 0; i < ${#a[@]}; i++)); do
        for ((j = i + 1; j < ${#a[@]}; j++)); do
            if [[ ${a[j]} < ${a[i]} ]]; then t=${a[i]}; a[i]=${a[j]}; a[j]=$t; fi
        done
    done
    echo "${a[@]}"
}
for k in $(printf '%s\n' "${!color[@]}" | sorted_keys); do
    echo "color[$k]=${color[$k]}"
done
# Pipelines of builtins and functions.
upcase() { while IFS= read -r line; do echo "${line^^}"; done; }
count() { local c=0; while read -r _; do (( c++ )); done; echo "$c lines"; }
for w in one two three four five; do echo "$w"; done | upcase | while read -r l; do echo "<$l>"; done
seq_() { local i; for ((i = 1; i <= $1; i++)); do echo "$i"; done; }
seq_ 123 | count
# Command substitution with a subshell.
v=$( (cd / && echo "in $PWD"; exit 0); echo "status $?" )
echo "subshell said: $v"
outer=$( x=inner; ( x=deeper; echo "$x" ); echo "$x" )
echo "nesting: ${outer//$'\n'/,}"
( exit 7 ); echo "subshell exit: $?"
# Here-documents and a here-string.
name=world
cat_() { while IFS= read -r line; do echo "| $line"; done; }
cat_ <<EOT
hello $name
sum is $((sum % 1000))
$(echo from a substitution)
EOT
cat_ <<'EOT'
literal $name $(not run)
EOT
read -r a b c <<< "x y z"
echo "here-string: $c $b $a"
while IFS=: read -r user rest; do echo "user=$user rest=$rest"; done <<EOT
root:x:0
daemon:x:1
EOT
# case, [[ =~ ]].
for t in 2024-01-31 abc 12:30 foo.tar.gz; do
    case $t in
        +([0-9])-+([0-9])-+([0-9])) kind=date ;;
        *.tar.gz) kind=tarball ;;
        *:*) kind=time ;;
        *) kind=other ;;
    esac
    if [[ $t =~ ^([0-9]+)[-:]([0-9]+) ]]; then m="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"; else m=-; fi
    echo "$t: $kind $m"
done
trap 'echo "exiting with $?"' EXIT
exit 5
"##;

fn no_ia32() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_no-ia32"))
}

/// Written straight to the test's stderr, past the harness's capture, so a
/// skip is visible in a plain `cargo test`.
fn say(msg: &str) {
    let _ = writeln!(io::stderr(), "{msg}");
}

// ---------------------------------------------------------------------------
// Fetching the packages

/// One Debian package and the executable in it.
struct Package {
    /// e.g. `busybox-static` (fetched as `busybox-static:i386`).
    name: &'static str,
    /// The executable's path inside the package, e.g. `bin/busybox`.
    binary: &'static str,
}

const BUSYBOX: Package = Package {
    name: "busybox-static",
    binary: "bin/busybox",
};
const BASH: Package = Package {
    name: "bash-static",
    binary: "bin/bash-static",
};

/// `build/debian/`.
fn cache_dir() -> PathBuf {
    workspace_root().join("build").join("debian")
}

/// Run a setup command (apt, dpkg) with a timeout: Ok(outcome) when it ran,
/// whatever its status; Err when it could not start.
fn setup_command(mut cmd: Command, timeout: Duration) -> Result<Outcome, String> {
    let shown = format!("{cmd:?}");
    cmd.env("DEBIAN_FRONTEND", "noninteractive");
    run_with_timeout(cmd, timeout).map_err(|e| format!("cannot run {shown}: {e}"))
}

fn failed(what: &str, o: &Outcome) -> String {
    format!(
        "{what} failed: {}\n{}",
        o.describe(),
        indent_tail("stderr", &o.stderr_text(), 8)
    )
}

/// A `PKG_*_i386.deb` already in `debs` (the last by name if several).
fn cached_deb(debs: &Path, pkg: &str) -> Option<PathBuf> {
    let prefix = format!("{pkg}_");
    let mut found: Vec<PathBuf> = fs::read_dir(debs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with("_i386.deb"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Make sure dpkg knows the i386 architecture (adding it needs root).
/// Returns whether it ran `apt-get update`.
fn ensure_i386_architecture() -> Result<bool, String> {
    let mut cmd = Command::new("dpkg");
    cmd.arg("--print-foreign-architectures");
    let o = setup_command(cmd, DOWNLOAD_TIMEOUT)?;
    if !o.status.success() {
        return Err(failed("dpkg --print-foreign-architectures", &o));
    }
    if String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .any(|a| a == "i386")
    {
        return Ok(false);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err(
            "i386 is not a dpkg foreign architecture and adding it needs root \
                    (dpkg --add-architecture i386 && apt-get update)"
                .to_string(),
        );
    }
    let mut cmd = Command::new("dpkg");
    cmd.args(["--add-architecture", "i386"]);
    let o = setup_command(cmd, DOWNLOAD_TIMEOUT)?;
    if !o.status.success() {
        return Err(failed("dpkg --add-architecture i386", &o));
    }
    apt_update()?;
    Ok(true)
}

/// `apt-get update`; its status is ignored (a mirror may be partly broken:
/// whether the download works afterwards is what counts).
fn apt_update() -> Result<(), String> {
    let mut cmd = Command::new("apt-get");
    cmd.arg("update");
    let o = setup_command(cmd, UPDATE_TIMEOUT)?;
    if o.timed_out {
        return Err(format!("apt-get update timed out after {UPDATE_TIMEOUT:?}"));
    }
    Ok(())
}

/// `apt-get download PKG:i386` into `debs`.
fn download(debs: &Path, pkg: &str) -> Result<PathBuf, String> {
    let mut updated = ensure_i386_architecture()?;
    loop {
        let mut cmd = Command::new("apt-get");
        cmd.arg("download")
            .arg(format!("{pkg}:i386"))
            .current_dir(debs);
        let o = setup_command(cmd, DOWNLOAD_TIMEOUT)?;
        if o.status.success() {
            if let Some(deb) = cached_deb(debs, pkg) {
                return Ok(deb);
            }
        }
        // A download cut short must not be taken for a package next time.
        while let Some(partial) = cached_deb(debs, pkg) {
            if fs::remove_file(&partial).is_err() {
                break;
            }
        }
        if updated {
            return Err(if o.timed_out {
                format!("apt-get download {pkg}:i386 timed out after {DOWNLOAD_TIMEOUT:?}")
            } else {
                failed(&format!("apt-get download {pkg}:i386"), &o)
            });
        }
        // Perhaps the package lists are missing or stale.
        apt_update()?;
        updated = true;
    }
}

/// The package's executable, from `build/debian/PKG/` or fetched and
/// unpacked there. Err says why it could not be had (a reason to skip).
fn fetch(pkg: &Package) -> Result<PathBuf, String> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let dir = cache_dir();
    let unpacked = dir.join(pkg.name);
    let binary = unpacked.join(pkg.binary);
    if binary.is_file() {
        return Ok(binary);
    }
    let debs = dir.join("debs");
    fs::create_dir_all(&debs).map_err(|e| format!("cannot create {}: {e}", debs.display()))?;
    let deb = match cached_deb(&debs, pkg.name) {
        Some(deb) => deb,
        None => download(&debs, pkg.name)?,
    };
    let tmp = dir.join(format!(".{}.{}", pkg.name, std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let mut cmd = Command::new("dpkg-deb");
    cmd.arg("-x").arg(&deb).arg(&tmp);
    let o = setup_command(cmd, DOWNLOAD_TIMEOUT)?;
    if !o.status.success() || !tmp.join(pkg.binary).is_file() {
        let _ = fs::remove_dir_all(&tmp);
        // A damaged download must not stay cached.
        let _ = fs::remove_file(&deb);
        return Err(if o.status.success() {
            format!("{} holds no {}", deb.display(), pkg.binary)
        } else {
            failed(&format!("dpkg-deb -x {}", deb.display()), &o)
        });
    }
    let _ = fs::write(
        tmp.join(".deb"),
        format!(
            "{}\n",
            deb.file_name().unwrap_or_default().to_string_lossy()
        ),
    );
    let _ = fs::remove_dir_all(&unpacked);
    fs::rename(&tmp, &unpacked).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            tmp.display(),
            unpacked.display()
        )
    })?;
    Ok(binary)
}

/// The .deb a binary came from (for reports).
fn deb_name(pkg: &Package) -> String {
    fs::read_to_string(cache_dir().join(pkg.name).join(".deb"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| pkg.name.to_string())
}

// ---------------------------------------------------------------------------
// Running and comparing

/// The files a run left in its working directory: relative path → entry.
type Tree = BTreeMap<String, Entry>;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// `d`irectory, `f`ile, `l`ink or `?`.
    kind: char,
    /// Permission bits.
    mode: u32,
    /// A file's contents or a link's target.
    data: Vec<u8>,
}

fn snapshot(root: &Path) -> io::Result<Tree> {
    fn walk(root: &Path, dir: &Path, tree: &mut Tree) -> io::Result<()> {
        for e in fs::read_dir(dir)? {
            let path = e?.path();
            let meta = fs::symlink_metadata(&path)?;
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let mode = meta.permissions().mode() & 0o7777;
            let (kind, data) = if meta.is_dir() {
                walk(root, &path, tree)?;
                ('d', Vec::new())
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&path)?;
                ('l', target.into_os_string().into_encoded_bytes())
            } else if meta.is_file() {
                ('f', fs::read(&path)?)
            } else {
                ('?', Vec::new())
            };
            tree.insert(rel, Entry { kind, mode, data });
        }
        Ok(())
    }
    let mut tree = Tree::new();
    walk(root, root, &mut tree)?;
    Ok(tree)
}

/// 64-bit FNV-1a, to show contents in a listing.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One line per entry: kind, mode, size, content hash, path.
fn listing(tree: &Tree) -> Vec<u8> {
    let mut s = String::new();
    for (path, e) in tree {
        let _ = writeln!(
            s,
            "{} {:04o} {:6} {:016x} {path}",
            e.kind,
            e.mode,
            e.data.len(),
            fnv1a(&e.data)
        );
    }
    s.into_bytes()
}

/// Where two versions of a file differ: the first differing lines of a text,
/// the first differing byte of anything else.
fn content_difference(native: &[u8], port: &[u8]) -> String {
    let is_text = |d: &[u8]| !d.contains(&0) && std::str::from_utf8(d).is_ok();
    if is_text(native) && is_text(port) {
        return first_difference(native, port).replacen("stdout", "file", 1);
    }
    let at = native
        .iter()
        .zip(port)
        .position(|(a, b)| a != b)
        .unwrap_or(native.len().min(port.len()));
    let byte = |d: &[u8]| d.get(at).map_or("end".to_string(), |b| format!("{b:#04x}"));
    format!(
        "    binary: {} bytes, natively {}; first difference at offset {at}: {} (natively {})\n",
        port.len(),
        native.len(),
        byte(port),
        byte(native)
    )
}

/// What one run of a script did.
struct RunResult {
    outcome: Outcome,
    /// The working directory afterwards, when the files are compared.
    tree: Option<Tree>,
    /// The command, for reports.
    shown: String,
}

/// Run `program pre_args... script` with the script environment in a fresh
/// directory `cwd`, optionally under `no-ia32`.
fn run_script(
    wrapper: Option<&Path>,
    program: &Path,
    pre_args: &[&OsStr],
    script: &Path,
    cwd: &Path,
    keep_tree: bool,
) -> Result<RunResult, String> {
    let mut cmd = match wrapper {
        Some(w) => {
            let mut c = Command::new(w);
            c.arg("--").arg(program);
            c
        }
        None => Command::new(program),
    };
    cmd.args(pre_args)
        .arg(script)
        .env_clear()
        .envs(SCRIPT_ENV.iter().copied())
        .current_dir(cwd);
    if wrapper.is_some() {
        if let Ok(pass) = std::env::var("REHOST_TEST_PASS_ENV") {
            for k in pass.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                if let Some(v) = std::env::var_os(k) {
                    cmd.env(k, v);
                }
            }
        }
    }
    let env: Vec<String> = SCRIPT_ENV.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut shown = format!("cd {} && env -i {}", cwd.display(), env.join(" "));
    if let Some(w) = wrapper {
        let _ = write!(shown, " {}", w.display());
    }
    let _ = write!(shown, " {}", program.display());
    for a in pre_args {
        let _ = write!(shown, " {}", a.to_string_lossy());
    }
    let _ = write!(shown, " {}", script.display());
    let outcome =
        run_with_timeout(cmd, RUN_TIMEOUT).map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    let tree = if keep_tree {
        Some(snapshot(cwd).map_err(|e| format!("cannot list {}: {e}", cwd.display()))?)
    } else {
        None
    };
    Ok(RunResult {
        outcome,
        tree,
        shown,
    })
}

/// Compare a port's run with the native one: None if they agree.
fn compare(check: &str, native: &RunResult, port: &RunResult, setup: &str) -> Option<Failure> {
    let (n, p) = (&native.outcome, &port.outcome);
    let out_ok = n.stdout == p.stdout;
    let status_ok = !p.timed_out && p.code() == n.code();
    let tree_ok = native.tree == port.tree;
    if out_ok && status_ok && tree_ok {
        return None;
    }
    let mut summary = Vec::new();
    if p.timed_out {
        summary.push(format!("timed out after {RUN_TIMEOUT:?}"));
    } else if !status_ok {
        summary.push(format!(
            "{}, natively {}",
            describe_status(p.code()),
            describe_status(n.code())
        ));
    }
    if !out_ok {
        summary.push("stdout differs".to_string());
    }
    if !tree_ok {
        summary.push("the files it wrote differ".to_string());
    }
    let mut details = setup.to_string();
    let _ = writeln!(details, "  command: {}", port.shown);
    let _ = writeln!(details, "  native:  {}", native.shown);
    let _ = writeln!(
        details,
        "  status: {} (natively {})",
        p.describe(),
        n.describe()
    );
    if !out_ok {
        details.push_str(&first_difference(&n.stdout, &p.stdout));
    }
    if let (Some(nt), Some(pt)) = (&native.tree, &port.tree) {
        if !tree_ok {
            details.push_str("  files (kind, mode, size, FNV-1a, path), native (-) vs port (+):\n");
            details.push_str(
                &first_difference(&listing(nt), &listing(pt)).replacen("stdout", "listing", 1),
            );
            let changed = nt
                .iter()
                .filter(|(path, e)| pt.get(*path).is_some_and(|pe| pe.data != e.data));
            for (path, e) in changed.take(3) {
                let _ = writeln!(details, "  contents of {path}:");
                details.push_str(&content_difference(&e.data, &pt[path].data));
            }
        }
    }
    details.push_str(&indent_tail("stderr", &p.stderr_text(), 15));
    Some(Failure {
        check: check.to_string(),
        summary: summary.join("; "),
        details,
    })
}

/// How one script test goes.
struct ScriptTest {
    /// Check label prefix, e.g. `debian-busybox`.
    label: &'static str,
    package: Package,
    /// File name of the translated binary (busybox needs `busybox`).
    port_name: &'static str,
    /// Arguments before the script path (`sh` for busybox).
    pre_args: &'static [&'static str],
    script: &'static str,
    /// The native run must exit with this status...
    status: i32,
    /// ... and its stdout must end with this line.
    last_line: &'static str,
    /// Compare the files each run leaves in its working directory.
    compare_files: bool,
}

fn check_script(t: &ScriptTest) {
    let what = format!("{} ({})", t.label, t.package.name);
    let start = Instant::now();
    let guest = match fetch(&t.package) {
        Ok(g) => g,
        Err(e) => {
            say(&format!(
                "skipped: {what}: cannot get Debian's {}:i386 package (apt or the network \
                 is unavailable?): {e}",
                t.package.name
            ));
            return;
        }
    };
    let fetched = start.elapsed();
    report(&what, run_checks(t, &guest));
    say(&format!(
        "{what}: passed ({}; fetch {:.1?}, total {:.1?})",
        deb_name(&t.package),
        fetched,
        start.elapsed()
    ));
}

fn run_checks(t: &ScriptTest, guest: &Path) -> Result<Checked, String> {
    let rehost = rehost_bin()?;
    let tmp = TempDir::new(t.label).map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let script = tmp.path().join("script.sh");
    fs::write(&script, t.script).map_err(|e| format!("cannot write the script: {e}"))?;
    let pre: Vec<&OsStr> = t.pre_args.iter().map(OsStr::new).collect();
    let cwd = |name: &str| {
        tmp.subdir(name)
            .map_err(|e| format!("cannot create a working dir: {e}"))
    };
    let mut timings = Vec::new();

    let native = run_script(None, guest, &pre, &script, &cwd("native")?, t.compare_files)?;
    timings.push(format!("native {:.2?}", native.outcome.elapsed));
    let out = String::from_utf8_lossy(&native.outcome.stdout);
    if native.outcome.code() != t.status || out.lines().last() != Some(t.last_line) {
        return Err(format!(
            "the native run, the oracle, did not finish the script: {} (expected {}), last \
             line {:?} (expected {:?})\n  command: {}\n{}{}",
            native.outcome.describe(),
            describe_status(t.status),
            out.lines().last().unwrap_or(""),
            t.last_line,
            native.shown,
            indent_tail("stdout", &out, 10),
            indent_tail("stderr", &native.outcome.stderr_text(), 10)
        ));
    }

    let mut checked = Checked::default();
    for mode in selected_modes() {
        let check = format!("{} [{}]", t.label, mode.name());
        checked.checks.push(check.clone());
        let (port, setup) = match mode {
            Mode::Translate => {
                let dir = tmp.path().join("port");
                fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir:?}: {e}"))?;
                let out = dir.join(t.port_name);
                let translated = match translate(&rehost, guest, &out) {
                    Ok(o) => o,
                    Err(e) => {
                        checked.failures.push(Failure {
                            check,
                            summary: e.lines().next().unwrap_or("").to_string(),
                            details: format!("{e}\n"),
                        });
                        continue;
                    }
                };
                timings.push(format!("translate {:.2?}", translated.elapsed));
                let setup = format!("  translate: {}", translated.stderr_text());
                let port = run_script(
                    Some(no_ia32()),
                    &out,
                    &pre,
                    &script,
                    &cwd("translated")?,
                    t.compare_files,
                )?;
                (port, setup)
            }
            Mode::Run => {
                // argv[0] of the guest is the path rehost run is given.
                let dir = tmp.path().join("guest");
                fs::create_dir_all(&dir).map_err(|e| format!("cannot create {dir:?}: {e}"))?;
                let link = dir.join(t.port_name);
                symlink(guest, &link).map_err(|e| format!("cannot link {link:?}: {e}"))?;
                let mut pre_run: Vec<&OsStr> = vec![OsStr::new("run"), link.as_os_str()];
                pre_run.extend(&pre);
                let port = run_script(
                    Some(no_ia32()),
                    &rehost,
                    &pre_run,
                    &script,
                    &cwd("rehost-run")?,
                    t.compare_files,
                )?;
                (port, String::new())
            }
        };
        timings.push(format!("{} {:.2?}", mode.name(), port.outcome.elapsed));
        if let Some(f) = compare(&check, &native, &port, &setup) {
            checked.failures.push(f);
        }
    }
    eprintln!("{}: {}", t.label, timings.join(", "));
    Ok(checked)
}

/// Busybox's shell and applets (sed, awk, sort, md5sum, tar, gzip, find,
/// cut, tr, wc, ...): stdout, status and the files written.
#[test]
fn busybox() {
    check_script(&ScriptTest {
        label: "debian-busybox",
        package: BUSYBOX,
        port_name: "busybox",
        pre_args: &["sh"],
        script: BUSYBOX_SCRIPT,
        status: 3,
        last_line: "== done",
        compare_files: true,
    });
}

/// Bash on a loop-heavy script: stdout and status.
#[test]
fn bash() {
    check_script(&ScriptTest {
        label: "debian-bash",
        package: BASH,
        port_name: "bash-static",
        pre_args: &[],
        script: BASH_SCRIPT,
        status: 5,
        last_line: "exiting with 5",
        compare_files: false,
    });
}

/// The comparison catches every kind of difference (so these tests can fail).
#[test]
fn comparison_reports_differences() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    let result = |stdout: &[u8], code: i32, files: &[(&str, &[u8])]| RunResult {
        outcome: Outcome {
            stdout: stdout.to_vec(),
            stderr: Vec::new(),
            status: ExitStatus::from_raw(code << 8),
            timed_out: false,
            elapsed: Duration::ZERO,
        },
        tree: Some(
            files
                .iter()
                .map(|(p, d)| {
                    (
                        p.to_string(),
                        Entry {
                            kind: 'f',
                            mode: 0o644,
                            data: d.to_vec(),
                        },
                    )
                })
                .collect(),
        ),
        shown: "cmd".to_string(),
    };
    let native = result(b"a\nb\nc\n", 3, &[("x", b"1\n2\n"), ("y", b"")]);
    assert!(compare(
        "same",
        &native,
        &result(b"a\nb\nc\n", 3, &[("x", b"1\n2\n"), ("y", b"")]),
        ""
    )
    .is_none());

    let f = compare(
        "out",
        &native,
        &result(b"a\nB\nc\n", 3, &[("x", b"1\n2\n"), ("y", b"")]),
        "",
    )
    .expect("stdout differs");
    assert_eq!(f.summary, "stdout differs");
    assert!(
        f.details.contains("first difference at line 2"),
        "{}",
        f.details
    );
    assert!(
        f.details.contains("-     2  b") && f.details.contains("+     2  B"),
        "{}",
        f.details
    );

    let f = compare(
        "status",
        &native,
        &result(b"a\nb\nc\n", 0, &[("x", b"1\n2\n"), ("y", b"")]),
        "",
    )
    .expect("status differs");
    assert_eq!(f.summary, "exit status 0, natively exit status 3");

    let f = compare(
        "content",
        &native,
        &result(b"a\nb\nc\n", 3, &[("x", b"1\n3\n"), ("y", b"")]),
        "",
    )
    .expect("a file differs");
    assert_eq!(f.summary, "the files it wrote differ");
    assert!(
        f.details.contains("contents of x") && f.details.contains("+     2  3"),
        "{}",
        f.details
    );

    let f = compare(
        "binary",
        &native,
        &result(b"a\nb\nc\n", 3, &[("x", b"1\n2\n"), ("y", b"\0\x01")]),
        "",
    )
    .expect("a binary file differs");
    assert!(
        f.details.contains(
            "binary: 2 bytes, natively 0; first difference at offset 0: 0x00 (natively end)"
        ),
        "{}",
        f.details
    );

    let f = compare(
        "missing",
        &native,
        &result(b"a\nb\nc\n", 3, &[("x", b"1\n2\n")]),
        "",
    )
    .expect("a file is missing");
    assert!(
        f.details.contains("(end of actual output)"),
        "{}",
        f.details
    );
}
