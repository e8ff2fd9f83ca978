using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Payloads
{
    /// <summary>
    /// Lists the torrents that share a payload (siblings: the same files under the same names relative to
    /// the root, whatever the piece size, v1/v2, tracker or root folder name), or with -Content the
    /// torrents whose content is identical whatever the file and folder names (content twins).
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "HashallSibling", DefaultParameterSetName = "Torrent")]
    [OutputType(typeof(HashallTorrent))]
    public sealed class GetHashallSiblingCommand : HashallCmdlet
    {
        /// <summary>A torrent: its siblings are the other torrents with its payload hash (with -Content: its content hash).</summary>
        [Parameter(ParameterSetName = "Torrent", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(TorrentHashCompleter))]
        public string TorrentHash { get; set; } = "";

        /// <summary>A payload hash: every torrent with it.</summary>
        [Parameter(ParameterSetName = "Payload", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public string PayloadHash { get; set; } = "";

        /// <summary>A content hash: every torrent with it. With a payload on the pipeline (and -Content), its own content hash.</summary>
        [Parameter(ParameterSetName = "Payload", ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = "Content", Mandatory = true)]
        [AllowNull, AllowEmptyString]
        public string? ContentHash { get; set; }

        /// <summary>List content twins: torrents whose files are the same bytes, whatever the file and folder names.</summary>
        [Parameter(ParameterSetName = "Torrent")]
        [Parameter(ParameterSetName = "Payload")]
        public SwitchParameter Content { get; set; }

        protected override void Process()
        {
            var store = new PayloadStore(Catalog);
            bool byContent = Content.IsPresent || ParameterSetName == "Content";
            string? hash;
            string? self = null;
            if (ParameterSetName == "Torrent")
            {
                var torrent = store.Torrents(includeGone: true).Find(t => string.Equals(t.TorrentHash, TorrentHash, StringComparison.OrdinalIgnoreCase))
                    ?? throw new HashallException("TorrentNotFound", HashallErrorKind.NotFound,
                        $"No torrent '{TorrentHash}' in catalog '{Catalog.Path}'; run Sync-HashallPayload first.", TorrentHash);
                hash = byContent ? torrent.ContentHash : torrent.PayloadHash;
                if (hash == null)
                {
                    WriteHashallError(new HashallException("PayloadIncomplete", HashallErrorKind.InvalidData,
                        $"The payload of '{torrent.Name}' is incomplete (some files have no SHA-1 in the catalog), so its {(byContent ? "content twins" : "siblings")} cannot be known; Get-HashallPayload -TorrentHash {torrent.TorrentHash} lists what to scan.", TorrentHash));
                    return;
                }
                self = torrent.TorrentHash;
            }
            else if (ParameterSetName == "Content")
                hash = ContentHash;
            else if (!byContent)
                hash = PayloadHash;
            else
            {
                // A payload object carries its content hash; a bare payload hash is looked up.
                hash = !string.IsNullOrEmpty(ContentHash) ? ContentHash
                    : store.Payloads().Where(p => string.Equals(p.PayloadHash, PayloadHash, StringComparison.OrdinalIgnoreCase) && p.ContentHash != null)
                        .Select(p => p.ContentHash).FirstOrDefault();
                if (hash == null)
                {
                    WriteHashallError(new HashallException("ContentHashUnknown", HashallErrorKind.NotFound,
                        $"No content hash is known for payload '{PayloadHash}' in catalog '{Catalog.Path}' (no synced payload has it, or it is incomplete); pipe the payload object, or run Sync-HashallPayload.", PayloadHash));
                    return;
                }
            }
            if (string.IsNullOrEmpty(hash))
                return;
            var torrents = byContent ? store.TorrentsWithContentHash(hash!.ToLowerInvariant()) : store.TorrentsWithPayloadHash(hash!.ToLowerInvariant());
            foreach (var t in torrents)
                if (t.TorrentHash != self)
                    WriteObject(t);
        }
    }
}
