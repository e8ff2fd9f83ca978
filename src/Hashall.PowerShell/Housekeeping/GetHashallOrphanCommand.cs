using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core.Orphans;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>
    /// Lists files (and empty folders) under the seeding roots that no torrent of any qBittorrent in the
    /// catalog uses; with -Unselected, the torrents' unselected files instead.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "HashallOrphan")]
    [OutputType(typeof(HashallOrphan))]
    public sealed class GetHashallOrphanCommand : QBittorrentCmdlet
    {
        /// <summary>Seeding roots to look under; default: the catalog's stored ones (Add-HashallSeedingRoot).</summary>
        [Parameter(Position = 0)]
        [Alias("SeedingRoot")]
        [ArgumentCompleter(typeof(SeedingRootCompleter))]
        public string[]? Root { get; set; }

        /// <summary>Only what was last written at least this long ago (e.g. 7.00:00:00 or '1.00:00').</summary>
        [Parameter]
        [DurationTransformation]
        public TimeSpan MinimumAge { get; set; }

        /// <summary>Names to leave out, wildcards (e.g. '*.!qB', '*.parts', '.stfolder'); a matching folder leaves out all it holds.</summary>
        [Parameter]
        [SupportsWildcards]
        public string[]? Exclude { get; set; }

        /// <summary>List the torrents' unselected files (priority 0 in qBittorrent) instead of orphans.</summary>
        [Parameter]
        public SwitchParameter Unselected { get; set; }

        /// <summary>Sync the torrents of qBittorrent (-Uri, else QBITTORRENT_URL) first.</summary>
        [Parameter]
        public SwitchParameter Sync { get; set; }

        protected override void Process()
        {
            var roots = new SeedingRootStore(Catalog).Resolve(Root?.Select(ResolvePath), "-Root");
            if (Sync)
                OrphanSync.Run(this, Catalog, ConnectedClient());
            var finder = new OrphanFinder(Catalog);
            finder.CheckFresh(roots);
            var options = new OrphanOptions { Roots = roots, MinimumAge = MinimumAge, ExcludeName = OrphanExclusion.For(Exclude), Unselected = Unselected };
            foreach (var orphan in finder.Find(options, progress: root =>
                         WriteProgress(new ProgressRecord(2, "Hashall orphans", $"Looking under '{root}'"))))
                WriteObject(orphan);
            WriteProgress(new ProgressRecord(2, "Hashall orphans", "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    /// <summary>The -Sync of the orphan cmdlets: a whole sync of one qBittorrent, said in the verbose stream.</summary>
    internal static class OrphanSync
    {
        /// <summary><paramref name="client"/>: the cmdlet's connected client (QBittorrentCmdlet.ConnectedClient), which the cmdlet disposes.</summary>
        public static void Run(HashallCmdlet cmdlet, Hashall.Core.Catalog.CatalogDatabase catalog, Hashall.Core.QBittorrent.QBittorrentClient client)
        {
            var result = new PayloadSync(catalog).Run(client, null, null, write: true, (done, total, name) => { });
            cmdlet.WriteVerbose($"Synced {result.Torrents} torrent(s) of qBittorrent {client.Instance}.");
        }
    }

    /// <summary>The orphan cmdlets' -Exclude: PowerShell wildcards, case-insensitive, each matched against one name.</summary>
    internal static class OrphanExclusion
    {
        public static Func<string, bool>? For(string[]? patterns)
        {
            if (patterns == null || patterns.Length == 0)
                return null;
            var wildcards = patterns.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant)).ToList();
            return name => wildcards.Any(w => w.IsMatch(name));
        }
    }
}
