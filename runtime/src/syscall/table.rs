//! The i386 system-call table: number, name and handler of every i386
//! system call, in one list that drives dispatch (`lookup`), names in logs
//! (`super::name`) and the "unimplemented" report.
//!
//! Invariant: entries are sorted by number (checked at compile time) and
//! the numbers and names are those of arch/x86/entry/syscalls/syscall_32.tbl
//! (taken from the kernel's uapi `asm/unistd_32.h`). An entry without a
//! handler answers -ENOSYS.

use super::{
    admin, dirent, exec, fdctl, fork, fs, fsmisc, ipc, keys, mem, misc, mq, net, numa, oldsignal,
    passthru, path, proc, quota, security, signal, time, timers, tls, Handler,
};

pub struct Entry {
    pub nr: u16,
    pub name: &'static str,
    pub handler: Option<Handler>,
}

macro_rules! table {
    ($($nr:literal $name:literal $(=> $h:path)?),* $(,)?) => {
        pub const TABLE: &[Entry] = &[$(Entry { nr: $nr, name: $name, handler: table!(@h $($h)?) }),*];
    };
    (@h $h:path) => { Some($h as Handler) };
    (@h) => { None };
}

/// Highest i386 number plus one.
const LIMIT: usize = 451;

table! {
    0 "restart_syscall" => misc::restart_syscall,
    1 "exit" => proc::exit,
    2 "fork" => fork::fork,
    3 "read" => fs::read,
    4 "write" => fs::write,
    5 "open" => fs::open,
    6 "close" => fs::close,
    7 "waitpid" => proc::waitpid,
    8 "creat" => fs::creat,
    9 "link" => path::link,
    10 "unlink" => path::unlink,
    11 "execve" => exec::execve,
    12 "chdir" => path::chdir,
    13 "time" => time::time,
    14 "mknod" => path::mknod,
    15 "chmod" => path::chmod,
    16 "lchown" => misc::lchown16,
    17 "break",
    18 "oldstat" => fsmisc::oldstat,
    19 "lseek" => fs::lseek,
    20 "getpid" => proc::getpid,
    21 "mount" => admin::mount,
    22 "umount" => admin::umount,
    23 "setuid" => misc::setuid16,
    24 "getuid" => proc::getuid,
    25 "stime" => timers::stime,
    26 "ptrace",
    27 "alarm" => time::alarm,
    28 "oldfstat" => fsmisc::oldfstat,
    29 "pause" => passthru::pause,
    30 "utime" => fsmisc::utime,
    31 "stty", 32 "gtty",
    33 "access" => path::access,
    34 "nice" => misc::nice,
    35 "ftime",
    36 "sync" => passthru::sync,
    37 "kill" => proc::kill,
    38 "rename" => path::rename,
    39 "mkdir" => path::mkdir,
    40 "rmdir" => path::rmdir,
    41 "dup" => fs::dup,
    42 "pipe" => fs::pipe,
    43 "times" => time::times,
    44 "prof",
    45 "brk" => mem::brk,
    46 "setgid" => misc::setgid16,
    47 "getgid" => proc::getgid,
    48 "signal" => oldsignal::signal,
    49 "geteuid" => proc::geteuid,
    50 "getegid" => proc::getegid,
    51 "acct" => admin::acct,
    52 "umount2" => admin::umount2,
    53 "lock",
    54 "ioctl" => fdctl::ioctl,
    55 "fcntl" => fdctl::fcntl,
    56 "mpx",
    57 "setpgid" => proc::setpgid,
    58 "ulimit",
    59 "oldolduname" => misc::oldolduname,
    60 "umask" => proc::umask,
    61 "chroot" => passthru::chroot,
    62 "ustat" => admin::ustat,
    63 "dup2" => fs::dup2,
    64 "getppid" => proc::getppid,
    65 "getpgrp" => proc::getpgrp,
    66 "setsid" => proc::setsid,
    67 "sigaction" => oldsignal::sigaction, 68 "sgetmask" => oldsignal::sgetmask, 69 "ssetmask" => oldsignal::ssetmask,
    70 "setreuid" => misc::setreuid16,
    71 "setregid" => misc::setregid16,
    72 "sigsuspend" => oldsignal::sigsuspend,
    73 "sigpending" => oldsignal::sigpending,
    74 "sethostname" => misc::sethostname,
    75 "setrlimit" => proc::setrlimit,
    76 "getrlimit" => proc::getrlimit,
    77 "getrusage" => proc::getrusage,
    78 "gettimeofday" => time::gettimeofday,
    79 "settimeofday" => timers::settimeofday,
    80 "getgroups" => misc::getgroups16,
    81 "setgroups" => misc::setgroups16,
    82 "select" => misc::old_select,
    83 "symlink" => path::symlink,
    84 "oldlstat" => fsmisc::oldlstat,
    85 "readlink" => path::readlink,
    86 "uselib",
    87 "swapon" => admin::swapon,
    88 "reboot" => admin::reboot,
    89 "readdir" => fsmisc::readdir,
    90 "mmap" => mem::old_mmap,
    91 "munmap" => mem::munmap,
    92 "truncate" => fs::truncate,
    93 "ftruncate" => fs::ftruncate,
    94 "fchmod" => path::fchmod,
    95 "fchown" => misc::fchown16,
    96 "getpriority" => passthru::getpriority,
    97 "setpriority" => passthru::setpriority,
    98 "profil",
    99 "statfs" => fsmisc::statfs,
    100 "fstatfs" => fsmisc::fstatfs,
    101 "ioperm" => admin::ioperm,
    102 "socketcall" => net::socketcall,
    103 "syslog" => misc::syslog,
    104 "setitimer" => time::setitimer,
    105 "getitimer" => time::getitimer,
    106 "stat" => fsmisc::stat,
    107 "lstat" => fsmisc::lstat,
    108 "fstat" => fsmisc::fstat32,
    109 "olduname" => misc::olduname,
    110 "iopl" => admin::iopl,
    111 "vhangup" => misc::vhangup,
    112 "idle",
    113 "vm86old",
    114 "wait4" => proc::wait4,
    115 "swapoff" => admin::swapoff,
    116 "sysinfo" => proc::sysinfo,
    117 "ipc" => ipc::ipc,
    118 "fsync" => fs::fsync,
    119 "sigreturn" => crate::signal::sigreturn,
    120 "clone" => fork::clone,
    121 "setdomainname" => misc::setdomainname,
    122 "uname" => proc::uname,
    123 "modify_ldt",
    124 "adjtimex" => timers::adjtimex,
    125 "mprotect" => mem::mprotect,
    126 "sigprocmask" => oldsignal::sigprocmask, 127 "create_module", 128 "init_module" => admin::init_module,
    129 "delete_module" => admin::delete_module,
    130 "get_kernel_syms", 131 "quotactl" => quota::quotactl,
    132 "getpgid" => proc::getpgid,
    133 "fchdir" => path::fchdir,
    134 "bdflush", 135 "sysfs" => admin::sysfs,
    136 "personality" => proc::personality,
    137 "afs_syscall",
    138 "setfsuid" => misc::setfsuid16,
    139 "setfsgid" => misc::setfsgid16,
    140 "_llseek" => fs::llseek,
    141 "getdents" => dirent::getdents,
    142 "_newselect" => fdctl::newselect,
    143 "flock" => fs::flock,
    144 "msync" => mem::msync,
    145 "readv" => fs::readv,
    146 "writev" => fs::writev,
    147 "getsid" => proc::getsid,
    148 "fdatasync" => fs::fdatasync,
    149 "_sysctl",
    150 "mlock" => mem::mlock,
    151 "munlock" => mem::munlock,
    152 "mlockall" => mem::mlockall,
    153 "munlockall" => mem::munlockall,
    154 "sched_setparam" => passthru::sched_setparam,
    155 "sched_getparam" => passthru::sched_getparam,
    156 "sched_setscheduler" => passthru::sched_setscheduler,
    157 "sched_getscheduler" => passthru::sched_getscheduler,
    158 "sched_yield" => time::sched_yield,
    159 "sched_get_priority_max" => passthru::sched_get_priority_max,
    160 "sched_get_priority_min" => passthru::sched_get_priority_min,
    161 "sched_rr_get_interval" => timers::sched_rr_get_interval,
    162 "nanosleep" => time::nanosleep,
    163 "mremap" => mem::mremap,
    164 "setresuid" => misc::setresuid16,
    165 "getresuid" => misc::getresuid16,
    166 "vm86", 167 "query_module",
    168 "poll" => fdctl::poll,
    169 "nfsservctl",
    170 "setresgid" => misc::setresgid16,
    171 "getresgid" => misc::getresgid16,
    172 "prctl" => proc::prctl,
    173 "rt_sigreturn" => crate::signal::rt_sigreturn,
    174 "rt_sigaction" => signal::rt_sigaction,
    175 "rt_sigprocmask" => signal::rt_sigprocmask,
    176 "rt_sigpending" => signal::rt_sigpending,
    177 "rt_sigtimedwait" => signal::rt_sigtimedwait,
    178 "rt_sigqueueinfo" => signal::rt_sigqueueinfo,
    179 "rt_sigsuspend" => oldsignal::rt_sigsuspend,
    180 "pread64" => fs::pread64,
    181 "pwrite64" => fs::pwrite64,
    182 "chown" => misc::chown16_p,
    183 "getcwd" => path::getcwd,
    184 "capget" => misc::capget,
    185 "capset" => misc::capset,
    186 "sigaltstack" => signal::sigaltstack,
    187 "sendfile" => fs::sendfile,
    188 "getpmsg", 189 "putpmsg",
    190 "vfork" => fork::vfork,
    191 "ugetrlimit" => proc::ugetrlimit,
    192 "mmap2" => mem::mmap2,
    193 "truncate64" => fs::truncate64,
    194 "ftruncate64" => fs::ftruncate64,
    195 "stat64" => path::stat64,
    196 "lstat64" => path::lstat64,
    197 "fstat64" => path::fstat64,
    198 "lchown32" => path::lchown32,
    199 "getuid32" => proc::getuid32,
    200 "getgid32" => proc::getgid32,
    201 "geteuid32" => proc::geteuid32,
    202 "getegid32" => proc::getegid32,
    203 "setreuid32" => passthru::setreuid32,
    204 "setregid32" => passthru::setregid32,
    205 "getgroups32" => proc::getgroups32,
    206 "setgroups32" => misc::setgroups32,
    207 "fchown32" => path::fchown32,
    208 "setresuid32" => passthru::setresuid32,
    209 "getresuid32" => proc::getresuid32,
    210 "setresgid32" => passthru::setresgid32,
    211 "getresgid32" => proc::getresgid32,
    212 "chown32" => path::chown32,
    213 "setuid32" => passthru::setuid32,
    214 "setgid32" => passthru::setgid32,
    215 "setfsuid32" => misc::setfsuid32,
    216 "setfsgid32" => misc::setfsgid32,
    217 "pivot_root" => admin::pivot_root,
    218 "mincore" => mem::mincore,
    219 "madvise" => mem::madvise,
    220 "getdents64" => dirent::getdents64,
    221 "fcntl64" => fdctl::fcntl64,
    224 "gettid" => proc::gettid,
    225 "readahead" => passthru::readahead,
    226 "setxattr" => fsmisc::setxattr_p,
    227 "lsetxattr" => fsmisc::lsetxattr,
    228 "fsetxattr" => fsmisc::fsetxattr,
    229 "getxattr" => fsmisc::getxattr_p,
    230 "lgetxattr" => fsmisc::lgetxattr,
    231 "fgetxattr" => fsmisc::fgetxattr,
    232 "listxattr" => fsmisc::listxattr_p,
    233 "llistxattr" => fsmisc::llistxattr,
    234 "flistxattr" => fsmisc::flistxattr,
    235 "removexattr" => fsmisc::removexattr_p,
    236 "lremovexattr" => fsmisc::lremovexattr,
    237 "fremovexattr" => fsmisc::fremovexattr,
    238 "tkill" => proc::tkill,
    239 "sendfile64" => fs::sendfile64,
    240 "futex" => time::futex,
    241 "sched_setaffinity" => proc::sched_setaffinity,
    242 "sched_getaffinity" => proc::sched_getaffinity,
    243 "set_thread_area" => tls::set_thread_area,
    244 "get_thread_area" => tls::get_thread_area,
    245 "io_setup", 246 "io_destroy", 247 "io_getevents", 248 "io_submit", 249 "io_cancel",
    250 "fadvise64" => fs::fadvise64,
    252 "exit_group" => proc::exit_group,
    253 "lookup_dcookie",
    254 "epoll_create" => fdctl::epoll_create,
    255 "epoll_ctl" => fdctl::epoll_ctl,
    256 "epoll_wait" => fdctl::epoll_wait,
    257 "remap_file_pages" => mem::remap_file_pages,
    258 "set_tid_address" => proc::set_tid_address,
    259 "timer_create" => timers::timer_create,
    260 "timer_settime" => timers::timer_settime,
    261 "timer_gettime" => timers::timer_gettime,
    262 "timer_getoverrun" => timers::timer_getoverrun,
    263 "timer_delete" => timers::timer_delete,
    264 "clock_settime" => timers::clock_settime,
    265 "clock_gettime" => time::clock_gettime,
    266 "clock_getres" => time::clock_getres,
    267 "clock_nanosleep" => time::clock_nanosleep,
    268 "statfs64" => path::statfs64,
    269 "fstatfs64" => path::fstatfs64,
    270 "tgkill" => proc::tgkill,
    271 "utimes" => fsmisc::utimes,
    272 "fadvise64_64" => fs::fadvise64_64,
    273 "vserver", 274 "mbind" => numa::mbind,
    275 "get_mempolicy" => numa::get_mempolicy,
    276 "set_mempolicy" => numa::set_mempolicy,
    277 "mq_open" => mq::mq_open,
    278 "mq_unlink" => mq::mq_unlink,
    279 "mq_timedsend" => mq::mq_timedsend,
    280 "mq_timedreceive" => mq::mq_timedreceive,
    281 "mq_notify" => mq::mq_notify,
    282 "mq_getsetattr" => mq::mq_getsetattr,
    283 "kexec_load",
    284 "waitid" => fork::waitid,
    286 "add_key" => keys::add_key,
    287 "request_key" => keys::request_key,
    288 "keyctl" => keys::keyctl,
    289 "ioprio_set" => misc::ioprio_set,
    290 "ioprio_get" => misc::ioprio_get,
    291 "inotify_init" => passthru::inotify_init,
    292 "inotify_add_watch" => passthru::inotify_add_watch,
    293 "inotify_rm_watch" => passthru::inotify_rm_watch,
    294 "migrate_pages" => numa::migrate_pages,
    295 "openat" => fs::openat,
    296 "mkdirat" => path::mkdirat,
    297 "mknodat" => path::mknodat,
    298 "fchownat" => path::fchownat,
    299 "futimesat" => fsmisc::futimesat,
    300 "fstatat64" => path::fstatat64,
    301 "unlinkat" => path::unlinkat,
    302 "renameat" => path::renameat,
    303 "linkat" => path::linkat,
    304 "symlinkat" => path::symlinkat,
    305 "readlinkat" => path::readlinkat,
    306 "fchmodat" => path::fchmodat,
    307 "faccessat" => path::faccessat,
    308 "pselect6" => fdctl::pselect6,
    309 "ppoll" => fdctl::ppoll,
    310 "unshare" => misc::unshare,
    311 "set_robust_list" => proc::refuse,
    312 "get_robust_list",
    313 "splice" => fsmisc::splice,
    314 "sync_file_range" => fsmisc::sync_file_range,
    315 "tee" => fsmisc::tee,
    316 "vmsplice" => fsmisc::vmsplice,
    317 "move_pages" => numa::move_pages,
    318 "getcpu" => proc::getcpu,
    319 "epoll_pwait" => fdctl::epoll_pwait,
    320 "utimensat" => path::utimensat,
    321 "signalfd" => timers::signalfd,
    322 "timerfd_create" => timers::timerfd_create,
    323 "eventfd" => fdctl::eventfd,
    324 "fallocate" => fs::fallocate,
    325 "timerfd_settime" => timers::timerfd_settime,
    326 "timerfd_gettime" => timers::timerfd_gettime,
    327 "signalfd4" => timers::signalfd4,
    328 "eventfd2" => fdctl::eventfd2,
    329 "epoll_create1" => fdctl::epoll_create1,
    330 "dup3" => fs::dup3,
    331 "pipe2" => fs::pipe2,
    332 "inotify_init1" => passthru::inotify_init1,
    333 "preadv" => fs::preadv,
    334 "pwritev" => fs::pwritev,
    335 "rt_tgsigqueueinfo" => signal::rt_tgsigqueueinfo,
    336 "perf_event_open",
    337 "recvmmsg" => net::sys_recvmmsg,
    338 "fanotify_init" => admin::fanotify_init,
    339 "fanotify_mark" => admin::fanotify_mark,
    340 "prlimit64" => proc::prlimit64,
    341 "name_to_handle_at" => fsmisc::name_to_handle_at,
    342 "open_by_handle_at" => fsmisc::open_by_handle_at,
    343 "clock_adjtime" => timers::clock_adjtime,
    344 "syncfs" => passthru::syncfs,
    345 "sendmmsg" => net::sys_sendmmsg,
    346 "setns" => misc::setns,
    347 "process_vm_readv" => misc::process_vm_readv,
    348 "process_vm_writev" => misc::process_vm_writev,
    349 "kcmp" => misc::kcmp,
    350 "finit_module" => admin::finit_module,
    351 "sched_setattr" => misc::sched_setattr,
    352 "sched_getattr" => misc::sched_getattr,
    353 "renameat2" => path::renameat2,
    354 "seccomp",
    355 "getrandom" => proc::getrandom,
    356 "memfd_create" => passthru::memfd_create,
    357 "bpf",
    358 "execveat" => exec::execveat,
    359 "socket" => net::sys_socket,
    360 "socketpair" => net::sys_socketpair,
    361 "bind" => net::sys_bind,
    362 "connect" => net::sys_connect,
    363 "listen" => net::sys_listen,
    364 "accept4" => net::sys_accept4,
    365 "getsockopt" => net::sys_getsockopt,
    366 "setsockopt" => net::sys_setsockopt,
    367 "getsockname" => net::sys_getsockname,
    368 "getpeername" => net::sys_getpeername,
    369 "sendto" => net::sys_sendto,
    370 "sendmsg" => net::sys_sendmsg,
    371 "recvfrom" => net::sys_recvfrom,
    372 "recvmsg" => net::sys_recvmsg,
    373 "shutdown" => net::sys_shutdown,
    374 "userfaultfd",
    375 "membarrier" => misc::membarrier,
    376 "mlock2" => admin::mlock2,
    377 "copy_file_range" => passthru::copy_file_range,
    378 "preadv2" => fsmisc::preadv2,
    379 "pwritev2" => fsmisc::pwritev2,
    380 "pkey_mprotect", 381 "pkey_alloc", 382 "pkey_free",
    383 "statx" => path::statx,
    384 "arch_prctl" => misc::arch_prctl, 385 "io_pgetevents",
    386 "rseq" => proc::refuse,
    393 "semget" => ipc::semget,
    394 "semctl" => ipc::semctl_direct,
    395 "shmget" => ipc::shmget,
    396 "shmctl" => ipc::shmctl_direct,
    397 "shmat" => ipc::shmat_direct,
    398 "shmdt" => ipc::shmdt_direct,
    399 "msgget" => ipc::msgget,
    400 "msgsnd" => ipc::msgsnd_direct,
    401 "msgrcv" => ipc::msgrcv_direct,
    402 "msgctl" => ipc::msgctl_direct,
    403 "clock_gettime64" => time::clock_gettime64,
    404 "clock_settime64" => timers::clock_settime64,
    405 "clock_adjtime64" => timers::clock_adjtime64,
    406 "clock_getres_time64" => time::clock_getres_time64,
    407 "clock_nanosleep_time64" => time::clock_nanosleep_time64,
    408 "timer_gettime64" => timers::timer_gettime64,
    409 "timer_settime64" => timers::timer_settime64,
    410 "timerfd_gettime64" => timers::timerfd_gettime64,
    411 "timerfd_settime64" => timers::timerfd_settime64,
    412 "utimensat_time64" => path::utimensat_time64,
    413 "pselect6_time64" => fdctl::pselect6_time64,
    414 "ppoll_time64" => fdctl::ppoll_time64,
    416 "io_pgetevents_time64",
    417 "recvmmsg_time64" => net::sys_recvmmsg_time64,
    418 "mq_timedsend_time64" => mq::mq_timedsend_time64,
    419 "mq_timedreceive_time64" => mq::mq_timedreceive_time64,
    420 "semtimedop_time64" => ipc::semtimedop_time64,
    421 "rt_sigtimedwait_time64" => signal::rt_sigtimedwait_time64,
    422 "futex_time64" => time::futex_time64,
    423 "sched_rr_get_interval_time64" => timers::sched_rr_get_interval_time64,
    424 "pidfd_send_signal" => signal::pidfd_send_signal,
    425 "io_uring_setup",
    426 "io_uring_enter", 427 "io_uring_register", 428 "open_tree" => admin::open_tree,
    429 "move_mount" => admin::move_mount,
    430 "fsopen" => admin::fsopen,
    431 "fsconfig" => admin::fsconfig,
    432 "fsmount" => admin::fsmount,
    433 "fspick" => admin::fspick,
    434 "pidfd_open" => misc::pidfd_open,
    435 "clone3" => fork::clone3,

    436 "close_range" => passthru::close_range,
    437 "openat2" => fsmisc::openat2,
    438 "pidfd_getfd" => misc::pidfd_getfd,
    439 "faccessat2" => path::faccessat2,
    440 "process_madvise" => misc::process_madvise,
    441 "epoll_pwait2" => misc::epoll_pwait2,
    442 "mount_setattr" => admin::mount_setattr, 443 "quotactl_fd" => quota::quotactl_fd,
    444 "landlock_create_ruleset" => security::landlock_create_ruleset,
    445 "landlock_add_rule" => security::landlock_add_rule,
    446 "landlock_restrict_self" => security::landlock_restrict_self,
    447 "memfd_secret" => security::memfd_secret,
    448 "process_mrelease" => misc::process_mrelease,
    449 "futex_waitv" => misc::futex_waitv,
    450 "set_mempolicy_home_node" => numa::set_mempolicy_home_node,
}

const fn build_index() -> [u16; LIMIT] {
    let mut idx = [u16::MAX; LIMIT];
    let mut i = 0;
    while i < TABLE.len() {
        assert!((TABLE[i].nr as usize) < LIMIT);
        assert!(i == 0 || TABLE[i - 1].nr < TABLE[i].nr);
        idx[TABLE[i].nr as usize] = i as u16;
        i += 1;
    }
    idx
}

/// Number -> position in TABLE.
static INDEX: [u16; LIMIT] = build_index();

pub fn lookup(nr: u32) -> Option<&'static Entry> {
    let i = *INDEX.get(nr as usize)?;
    TABLE.get(i as usize)
}

/// Why the i386 system calls without a handler answer -ENOSYS, one line
/// per group. Every handler-less entry of TABLE is in exactly one group
/// (the test `enosys_list` checks it and prints the list).
pub const ENOSYS_REASONS: &[(&str, &[u16])] = &[
    (
        "not in Linux for i386 either (sys_ni_syscall), or removed from or disabled in current kernels",
        &[17, 31, 32, 35, 44, 53, 56, 58, 86, 98, 112, 127, 130, 134, 137, 149, 167, 169, 188, 189, 253, 273],
    ),
    (
        "vm86 mode: an x86-64 kernel has none for i386 tasks either",
        &[113, 166],
    ),
    (
        "LDT segments: only the GDT TLS slots are emulated (a selector load of an LDT entry is not)",
        &[123],
    ),
    (
        "ptrace: a tracer would see and poke the host state of translated code, not i386 registers",
        &[26],
    ),
    (
        "seccomp: a guest filter judges i386 numbers and AUDIT_ARCH_I386, on the host it would judge the runtime's x86-64 calls",
        &[354],
    ),
    (
        "robust futex list: set_robust_list answers -ENOSYS (the host kernel must not walk an i386 list), so there is none to get",
        &[312],
    ),
    (
        "protection keys: PKRU is XSAVE state the stubs reload from the context on every return to guest code, undoing a host pkey_alloc's rights for the new key (needs PKRU kept in the context; this machine has no PKU to test on)",
        &[380, 381, 382],
    ),
    (
        "kexec_load: a segment array of i386 pointers for a new kernel; not converted (root only, rare)",
        &[283],
    ),
    (
        "asynchronous I/O, io_uring, perf, BPF, userfaultfd: out of scope (kernel-shared rings and records in i386 layouts)",
        &[245, 246, 247, 248, 249, 336, 357, 374, 385, 416, 425, 426, 427],
    ),
];

/// The -ENOSYS list as text: each group's reason, then its calls; then
/// the numbers below LIMIT that name no i386 system call at all.
pub fn enosys_report() -> String {
    let mut out = String::new();
    for (why, nrs) in ENOSYS_REASONS {
        out.push_str(why);
        out.push('\n');
        let names: Vec<String> = nrs
            .iter()
            .filter_map(|&n| lookup(n as u32).map(|e| format!("{n} {}", e.name)))
            .collect();
        out.push_str(&format!("    {}\n", names.join(", ")));
    }
    let holes: Vec<String> = (0..LIMIT as u32)
        .filter(|&n| lookup(n).is_none())
        .map(|n| n.to_string())
        .collect();
    out.push_str("numbers no i386 system call has (unassigned in syscall_32.tbl)\n");
    out.push_str(&format!("    {}\n", holes.join(", ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every handler-less entry has exactly one reason, and every reason
    /// lists only handler-less entries. Prints the list
    /// (`scripts/enosys-list.sh`).
    #[test]
    fn enosys_list() {
        for e in TABLE.iter().filter(|e| e.handler.is_none()) {
            let n = ENOSYS_REASONS
                .iter()
                .filter(|(_, nrs)| nrs.contains(&e.nr))
                .count();
            assert_eq!(n, 1, "{} {}: {n} reasons for -ENOSYS", e.nr, e.name);
        }
        for (why, nrs) in ENOSYS_REASONS {
            for &n in *nrs {
                let e = lookup(n as u32).unwrap_or_else(|| panic!("{n} ({why}) is no entry"));
                assert!(e.handler.is_none(), "{n} {} has a handler", e.name);
            }
        }
        println!("{}", enosys_report());
    }
}
