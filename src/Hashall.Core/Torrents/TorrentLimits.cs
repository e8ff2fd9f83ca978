namespace Hashall.Core.Torrents
{
    /// <summary>The bounds a .torrent file must stay within; anything beyond is refused as TorrentFileInvalid.</summary>
    public sealed class TorrentLimits
    {
        /// <summary>The defaults: qBittorrent's own 100 MiB torrent file limit, libtorrent's nesting depth of 100.</summary>
        public static TorrentLimits Default => new TorrentLimits(); // a fresh copy: the setters cannot change anyone else's

        /// <summary>Largest .torrent file read (bytes).</summary>
        public int MaxFileSize { get; set; } = 100 * 1024 * 1024;

        /// <summary>Deepest nesting of lists and dictionaries.</summary>
        public int MaxDepth { get; set; } = 100;

        /// <summary>Most bencoded values (integers, strings, lists, dictionaries) in one file: bounds the memory a parse takes (32 bytes each).</summary>
        public int MaxTokens { get; set; } = 8_000_000;

        /// <summary>Largest total size of the files a torrent describes (bytes, pad files included): 1 PiB.</summary>
        public long MaxTotalLength { get; set; } = 1L << 50;
    }
}
