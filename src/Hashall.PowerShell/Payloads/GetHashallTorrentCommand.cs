using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Lists the torrents the catalog knows from qBittorrent, with their payload.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallTorrent")]
    [OutputType(typeof(HashallTorrent))]
    public sealed class GetHashallTorrentCommand : HashallCmdlet
    {
        /// <summary>Torrent hashes (qBittorrent's id, or a v1/v2 infohash); wildcards allowed.</summary>
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Hash")]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        [SupportsWildcards]
        public string[]? TorrentHash { get; set; }

        /// <summary>Only torrents whose payload has this hash.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? PayloadHash { get; set; }

        /// <summary>Only torrents whose payload has this content hash (content twins, whatever the names).</summary>
        [Parameter]
        public string? ContentHash { get; set; }

        /// <summary>Only torrents of this category.</summary>
        [Parameter]
        public string? Category { get; set; }

        /// <summary>Only torrents with this tag.</summary>
        [Parameter]
        public string? Tag { get; set; }

        /// <summary>Only torrents in one of these qBittorrent states (as the last Sync-HashallPayload recorded them: missingFiles, stalledDL, pausedUP...); wildcards allowed.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(TorrentStateCompleter))]
        [SupportsWildcards]
        public string[]? State { get; set; }

        /// <summary>Include torrents qBittorrent no longer has.</summary>
        [Parameter]
        public SwitchParameter IncludeGone { get; set; }

        /// <summary>Only torrents with this link status (Linked, NotLinked, Unknown) against the seeding roots.</summary>
        [Parameter]
        public LinkStatus[]? LinkStatus { get; set; }

        /// <summary>Seeding roots for LinkStatus and ExternalLinks; default: the catalog's stored ones (Add-HashallSeedingRoot).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(Housekeeping.SeedingRootCompleter))]
        public string[]? SeedingRoot { get; set; }

        private LinkStatusCalculator? _links;
        private System.Collections.Generic.List<string>? _roots;

        protected override void Process()
        {
            var states = State?.Select(s => new WildcardPattern(s, WildcardOptions.IgnoreCase)).ToList();
            var patterns = TorrentHash?.Select(h => new WildcardPattern(h, WildcardOptions.IgnoreCase)).ToList();
            var roots = new SeedingRootStore(Catalog);
            // Link status needs seeding roots: given, or stored; without either it stays empty unless asked for.
            if (_roots == null)
            {
                var given = SeedingRoot?.Select(ResolvePath).ToList();
                _roots = LinkStatus != null || (given != null && given.Count > 0) ? roots.Resolve(given, "-SeedingRoot") : roots.Paths();
            }
            // Listing reads link counts from the catalog (as of the last scan); only a -LinkStatus filter,
            // which scripts act on, also asks the disk now (an lstat per file wakes spun-down disks).
            if (_roots.Count > 0)
                _links ??= new LinkStatusCalculator(Catalog, checkDisk: LinkStatus != null);
            foreach (var t in new PayloadStore(Catalog).Torrents(IncludeGone))
            {
                if (patterns != null && !patterns.Any(p => p.IsMatch(t.TorrentHash) || (t.InfohashV1 != null && p.IsMatch(t.InfohashV1))
                                                           || (t.InfohashV2 != null && p.IsMatch(t.InfohashV2))))
                    continue;
                if (PayloadHash != null && !string.Equals(t.PayloadHash, PayloadHash, StringComparison.OrdinalIgnoreCase))
                    continue;
                if (ContentHash != null && !string.Equals(t.ContentHash, ContentHash, StringComparison.OrdinalIgnoreCase))
                    continue;
                if (Category != null && t.Category != Category)
                    continue;
                if (Tag != null && !t.Tags.Contains(Tag))
                    continue;
                if (states != null && !states.Any(p => p.IsMatch(t.State)))
                    continue;
                if (_links != null)
                {
                    var status = _links.ForTorrent(t, _roots);
                    t.LinkStatus = status.Status;
                    t.ExternalLinks = status.ExternalLinks.ToArray();
                }
                if (LinkStatus != null && !LinkStatus.Contains(t.LinkStatus ?? Hashall.Core.Payloads.LinkStatus.Unknown))
                    continue;
                WriteObject(t);
            }
        }
    }
}
