using System;

namespace Hashall.Core.Scanning
{
    /// <summary>How much of each new or changed file a scan reads.</summary>
    public enum ScanMode
    {
        /// <summary>Full hashes (SHA-1, and SHA-256 when asked) of every file that lacks them or changed.</summary>
        Full,
        /// <summary>
        /// A sample hash only (size, first and last 64 KiB), for very large pools. Files of 128 KiB or
        /// less are read whole anyway and get their full hashes.
        /// </summary>
        Quick,
        /// <summary>Quick, then full hashes for duplicate candidates only: files sharing a size and quick hash with another inode on the device.</summary>
        Candidates,
    }

    /// <summary>Full hashes a scan computes; SHA-1 is always among them (payload identity needs it).</summary>
    [Flags]
    public enum HashAlgorithms
    {
        Sha1 = 1,
        Sha256 = 2,
    }
}
