namespace Hashall.Core.Payloads
{
    /// <summary>A tag written to or removed from a torrent in qBittorrent by its link status (Set-HashallTorrentTag).</summary>
    public sealed class TorrentTagChange
    {
        public string TorrentHash { get; set; } = "";
        public string Name { get; set; } = "";
        public string Tag { get; set; } = "";
        /// <summary>Added or Removed.</summary>
        public string Action { get; set; } = "";
        public LinkStatus LinkStatus { get; set; }
        public string[] ExternalLinks { get; set; } = System.Array.Empty<string>();
        public string Instance { get; set; } = "";
    }
}
