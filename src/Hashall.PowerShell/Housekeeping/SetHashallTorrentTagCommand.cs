using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Payloads;
using Hashall.Core.QBittorrent;
using Hashall.PowerShell.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>
    /// Writes a tag (default noHL) in qBittorrent to the torrents whose files have no hard link outside
    /// the seeding roots (LinkStatus NotLinked) and removes it from the Linked ones; Unknown ones are left
    /// as they are.
    /// </summary>
    [Cmdlet(VerbsCommon.Set, "HashallTorrentTag", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(TorrentTagChange))]
    public sealed class SetHashallTorrentTagCommand : QBittorrentCmdlet
    {
        private readonly HashSet<string> _hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Only these torrents (default: every torrent of that qBittorrent in the catalog); torrents from Get-HashallTorrent bind here.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string[]? TorrentHash { get; set; }

        /// <summary>The tag for torrents that are not linked (default noHL).</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Tag { get; set; } = "noHL";

        /// <summary>Seeding roots; default: the catalog's stored ones.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(SeedingRootCompleter))]
        public string[]? SeedingRoot { get; set; }

        protected override void Process()
        {
            foreach (string h in TorrentHash ?? Array.Empty<string>())
                _hashes.Add(h);
        }

        protected override void End()
        {
            // Torrents piped in but none came (a filter that kept nothing): nothing to tag, not every torrent.
            if (MyInvocation.ExpectingInput && _hashes.Count == 0)
                return;
            if (Tag.Contains(","))
                throw new Hashall.Core.HashallException("TagInvalid", Hashall.Core.HashallErrorKind.InvalidArgument, $"The tag '{Tag}' has a comma: qBittorrent separates tags with commas.", Tag);
            var roots = new SeedingRootStore(Catalog).Resolve(SeedingRoot?.Select(ResolvePath), "-SeedingRoot");
            var client = ConnectedClient();
            var links = new LinkStatusCalculator(Catalog);
            var now = client.Torrents().ToDictionary(t => t.Hash, StringComparer.OrdinalIgnoreCase);
            var add = new List<TorrentTagChange>();
            var remove = new List<TorrentTagChange>();
            var known = new PayloadStore(Catalog).Torrents(includeGone: false).Where(t => t.Instance == client.Instance).ToList();
            foreach (string missing in _hashes.Where(h => !known.Any(t => string.Equals(t.TorrentHash, h, StringComparison.OrdinalIgnoreCase))).OrderBy(h => h, StringComparer.Ordinal))
                WriteHashallError(new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                    $"No torrent '{missing}' of qBittorrent {client.Instance} in the catalog '{CatalogPath}'; run Sync-HashallPayload first.", missing));
            foreach (var t in known)
            {
                if (_hashes.Count > 0 && !_hashes.Contains(t.TorrentHash))
                    continue;
                if (!now.TryGetValue(t.TorrentHash, out var current))
                {
                    // Gone from qBittorrent since the last sync: said when asked for by hash, else skipped.
                    if (_hashes.Count > 0)
                        WriteHashallError(new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                            $"qBittorrent {client.Instance} no longer has the torrent '{t.Name}' ({t.TorrentHash}); run Sync-HashallPayload.", t.TorrentHash));
                    continue;
                }
                var status = links.ForTorrent(t, roots);
                bool tagged = current.Tags.Contains(Tag);
                var change = new TorrentTagChange
                {
                    TorrentHash = t.TorrentHash, Name = t.Name, Tag = Tag, LinkStatus = status.Status, ExternalLinks = status.ExternalLinks.ToArray(), Instance = client.Instance,
                };
                if (status.Status == LinkStatus.NotLinked && !tagged)
                {
                    change.Action = "Added";
                    if (ShouldProcess($"torrent '{t.Name}' ({t.TorrentHash})", $"Add tag '{Tag}' (no hard link outside the seeding roots)"))
                        add.Add(change);
                }
                else if (status.Status == LinkStatus.Linked && tagged)
                {
                    change.Action = "Removed";
                    if (ShouldProcess($"torrent '{t.Name}' ({t.TorrentHash})", $"Remove tag '{Tag}' (linked: {string.Join(", ", status.ExternalLinks.Take(3))})"))
                        remove.Add(change);
                }
                else if (status.Status == LinkStatus.Unknown)
                {
                    WriteVerbose($"'{t.Name}' ({t.TorrentHash}): link status Unknown ({status.Reason}); its tag is left as it is.");
                }
            }
            if (add.Count > 0)
                client.AddTags(add.Select(c => c.TorrentHash), Tag);
            if (remove.Count > 0)
                client.RemoveTags(remove.Select(c => c.TorrentHash), Tag);
            WriteObject(add.Concat(remove).ToList(), enumerateCollection: true);
        }
    }
}
