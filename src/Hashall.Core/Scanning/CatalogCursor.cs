using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Hashall.Core.Catalog;
using Hashall.Core.Platform;

namespace Hashall.Core.Scanning
{
    /// <summary>
    /// A scope's catalog rows streamed in key order (<see cref="CatalogOrder"/>), a chunk at a time by
    /// keyset (path after the last one read), so the walk, visiting paths in the same order, merges
    /// with them holding one chunk. Only rows that existed when the scope opened (id at most the
    /// highest id then) are read: rows this scan inserts meanwhile are not the catalog's old state.
    /// </summary>
    internal sealed class CatalogCursor
    {
        /// <summary>Rows per query.</summary>
        internal static int ChunkRows = 4096;

        private readonly FileStore _files;
        private readonly long _deviceId;
        private readonly string _prefix;
        private readonly long _maxId;
        private List<FileRow> _chunk = new List<FileRow>();
        private int _at;
        private bool _started, _exhausted;
        private string? _last;

        public CatalogCursor(FileStore files, long deviceId, string prefix, long maxId)
        {
            _files = files;
            _deviceId = deviceId;
            _prefix = prefix;
            _maxId = maxId;
            _exhausted = maxId == 0;
        }

        /// <summary>The next row in key order, or null after the last.</summary>
        public FileRow? Current
        {
            [MethodImpl(HotPath.Optimize)]
            get
            {
                if (_at < _chunk.Count)
                    return _chunk[_at];
                if (_exhausted)
                    return null;
                Fill();
                return _at < _chunk.Count ? _chunk[_at] : null;
            }
        }

        public void Advance() => _at++;

        private void Fill()
        {
            _at = 0;
            if (!_started)
            {
                _started = true;
                // The root's own row (a file given as the root, or a file that became a directory) sorts first.
                if (_prefix.Length > 0 && _files.AtPath(_deviceId, _prefix, _maxId) is FileRow own)
                {
                    _chunk = new List<FileRow> { own };
                    return;
                }
            }
            _chunk = _files.Chunk(_deviceId, _prefix, _last, _maxId, ChunkRows);
            if (_chunk.Count < ChunkRows)
                _exhausted = true; // rows added from now on are this scan's own (ids above the maximum)
            if (_chunk.Count > 0)
                _last = _chunk[_chunk.Count - 1].Path;
        }
    }
}
