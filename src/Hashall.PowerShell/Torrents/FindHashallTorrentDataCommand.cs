using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Devices;
using Hashall.Core.Torrents;
using Hashall.PowerShell.Devices;

namespace Hashall.PowerShell.Torrents
{
    /// <summary>
    /// Finds a torrent's data among the catalogued files (by size, ranked by name and device) and proves it
    /// against the torrent's pieces. Reads only: nothing on disk or in the catalog changes.
    /// </summary>
    [Cmdlet(VerbsCommon.Find, "HashallTorrentData", DefaultParameterSetName = "TorrentFile")]
    [OutputType(typeof(TorrentDataMatch))]
    public sealed class FindHashallTorrentDataCommand : TorrentInputCmdlet
    {
        private readonly DeviceLocator _locator = new DeviceLocator();
        private (string Database, long[]? Ids)? _devices;

        /// <summary>Look for data only on these devices (alias, id or a path on it); default: every catalogued device.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string[]? Device { get; set; }

        /// <summary>Write only results with at least this share (0 to 1) of the torrent's bytes found and verified.</summary>
        [Parameter]
        [ValidateRange(0.0, 1.0)]
        public double MinimumShare { get; set; }

        /// <summary>Candidate files of the right size tried per torrent file, best ranked first (default 8).</summary>
        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxCandidates { get; set; } = 8;

        protected override void Process() => ForEachTorrent(
            file => Find(() => (TorrentMetainfo.Load(file), file, file)),
            hash => Find(() =>
            {
                var (meta, _, source) = Export(hash);
                return (meta, source, "");
            }));

        /// <summary>The devices named by -Device, resolved once per catalog; an unknown one stops the run (it would fail every torrent).</summary>
        private long[]? DeviceIds()
        {
            if (Device == null)
                return null;
            if (_devices == null || _devices.Value.Database != Catalog.Path)
            {
                var store = new DeviceStore(Catalog);
                _devices = (Catalog.Path, Device.Select(d => store.Resolve(d, _locator, register: false).DeviceId).Distinct().ToArray());
            }
            return _devices.Value.Ids;
        }

        private void Find(Func<(TorrentMetainfo Meta, string Source, string TorrentFile)> load)
        {
            // No catalog (CatalogNotFound) or an unknown -Device stops the run: every torrent would fail the same way.
            var catalog = Catalog;
            var options = new TorrentDataOptions { DeviceIds = DeviceIds(), MaxCandidates = MaxCandidates };
            TorrentDataMatch match;
            try
            {
                var (meta, source, torrentFile) = load();
                var finder = new TorrentDataFinder(catalog);
                match = RunWithProgress($"Finding the data of {meta.Name}", 0,
                    (read, cancel) => finder.Find(meta, source, options, read, cancel));
                if (match.TorrentFile.Length == 0)
                    match.TorrentFile = torrentFile;
                if (match.Database.Length == 0)
                    match.Database = catalog.Path;
            }
            catch (HashallException e)
            {
                WriteHashallError(e);
                return;
            }
            if (match.Share < MinimumShare)
            {
                WriteVerbose($"'{match.Name}': {match.Status}, {match.Share:P1} of its bytes found, below -MinimumShare {MinimumShare:P1}.");
                return;
            }
            WriteObject(match);
        }
    }
}
