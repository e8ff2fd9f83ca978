using System;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>Lists the torrents that share a payload: the same content under other piece sizes, v1/v2 or trackers, on any device.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallSibling", DefaultParameterSetName = "Torrent")]
    [OutputType(typeof(HashallTorrent))]
    public sealed class GetHashallSiblingCommand : HashallCmdlet
    {
        /// <summary>A torrent: its siblings are the other torrents with its payload hash.</summary>
        [Parameter(ParameterSetName = "Torrent", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string TorrentHash { get; set; } = "";

        /// <summary>A payload hash: every torrent with it.</summary>
        [Parameter(ParameterSetName = "Payload", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public string PayloadHash { get; set; } = "";

        protected override void Process()
        {
            var store = new PayloadStore(Catalog);
            string hash = PayloadHash;
            string? self = null;
            if (ParameterSetName == "Torrent")
            {
                var torrent = store.Torrents(includeGone: true).Find(t => string.Equals(t.TorrentHash, TorrentHash, StringComparison.OrdinalIgnoreCase))
                    ?? throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                        $"No torrent '{TorrentHash}' in catalog '{Catalog.Path}'; run Sync-HashallPayload first.", TorrentHash);
                if (torrent.PayloadHash == null)
                {
                    WriteHashallError(new HashallException("PayloadIncomplete", HashallErrorKind.InvalidData,
                        $"The payload of '{torrent.Name}' is incomplete (some files have no SHA-1 in the catalog), so its siblings cannot be known; Get-HashallPayload -TorrentHash {torrent.TorrentHash} lists what to scan.", TorrentHash));
                    return;
                }
                hash = torrent.PayloadHash;
                self = torrent.TorrentHash;
            }
            foreach (var t in store.TorrentsWithPayloadHash(hash.ToLowerInvariant()))
                if (t.TorrentHash != self)
                    WriteObject(t);
        }
    }
}
