using System;
using System.Diagnostics;
using System.Globalization;

namespace Hashall.Core.Catalog
{
    /// <summary>
    /// Execution leases kept in catalog rows (link plans, rehome jobs): an owner name and an expiry.
    /// A crashed run cannot hold one forever: its lease expires, and on this host a dead process's
    /// lease is free at once.
    /// </summary>
    public static class Lease
    {
        /// <summary>How long a lease lasts without renewal (a crashed run elsewhere blocks others at most this long).</summary>
        public static readonly TimeSpan Length = TimeSpan.FromMinutes(2);

        /// <summary>This process's owner name: host, process id, a per-run token, and the boot.</summary>
        public static string NewOwner() =>
            $"{Environment.MachineName}:{Process.GetCurrentProcess().Id}:{Guid.NewGuid():N}:{BootId}";

        /// <summary>
        /// Whether a recorded lease still binds: a live process on this host keeps it even past expiry
        /// (it may be in a long read); a holder elsewhere is trusted until the lease expires.
        /// </summary>
        public static bool IsLive(string? owner, string? expires)
        {
            if (owner == null)
                return false;
            return LocalHolder(owner) is bool alive ? alive : expires != null && CatalogTime.Parse(expires) > DateTime.UtcNow;
        }

        /// <summary>
        /// This boot (and, in a container, this PID namespace): a process id only means something on the
        /// same boot of the same namespace. Linux: boot_id plus the pid namespace inode; elsewhere the host name.
        /// </summary>
        private static readonly string BootId = ReadBootId();

        private static string ReadBootId()
        {
            try
            {
                string boot = System.IO.File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
                string ns = Platform.UnixPaths.ReadLink("/proc/self/ns/pid") ?? ""; // "pid:[4026531836]"
                return (boot + "-" + ns).Replace(":", "");
            }
            catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException || e is DllNotFoundException || e is EntryPointNotFoundException)
            {
                return "host";
            }
        }

        /// <summary>For a holder on this host (same host name and boot): whether its process lives; null for a holder elsewhere.</summary>
        private static bool? LocalHolder(string holder)
        {
            var parts = holder.Split(':');
            if (parts.Length < 4 || parts[0] != Environment.MachineName || parts[3] != BootId
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                return null;
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }
}
