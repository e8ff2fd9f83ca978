namespace Hashall.Core.Scanning
{
    /// <summary>What reading one file produced; hashes are lowercase hex, null when not computed.</summary>
    public sealed class HashResult
    {
        public HashResult(string? sha1, string? sha256, string? quickHash, long bytesRead)
        {
            Sha1 = sha1;
            Sha256 = sha256;
            QuickHash = quickHash;
            BytesRead = bytesRead;
        }

        public string? Sha1 { get; }
        public string? Sha256 { get; }
        public string? QuickHash { get; }
        public long BytesRead { get; }
    }
}
