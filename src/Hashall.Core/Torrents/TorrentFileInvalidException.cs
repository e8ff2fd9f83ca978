namespace Hashall.Core.Torrents
{
    /// <summary>
    /// A .torrent file (or metainfo bytes) that is malformed, truncated, inconsistent or over a limit:
    /// error id <c>TorrentFileInvalid</c>, with the byte offset where the fault was found and what it is.
    /// </summary>
    public sealed class TorrentFileInvalidException : HashallException
    {
        public const string Id = "TorrentFileInvalid";

        public TorrentFileInvalidException(string? source, long offset, string reason)
            : base(Id, HashallErrorKind.InvalidData,
                   $"{(source == null ? "The torrent metainfo" : $"The torrent file '{source}'")} is invalid at byte {offset}: {reason}.", source)
        {
            Offset = offset;
            Reason = reason;
        }

        /// <summary>Where in the file the fault was found (0-based).</summary>
        public long Offset { get; }

        /// <summary>What was wrong, without the file name and offset.</summary>
        public string Reason { get; }
    }
}
