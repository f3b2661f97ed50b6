import Glibc

/// Limits of this process that its work outgrows.
public enum ProcessLimits {
    /// Raises the soft limit on open descriptors to the hard limit, as Go's runtime does for every Kubernetes
    /// component: a server holds a descriptor per watch and connection, and the soft default (often 1024) would
    /// refuse clients long before memory or CPU run short.
    public static func raiseOpenFiles() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
