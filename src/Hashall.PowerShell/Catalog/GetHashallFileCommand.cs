using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text.RegularExpressions;
using Hashall.Core;
using Hashall.Core.Catalog;
using Hashall.Core.Devices;
using Hashall.PowerShell.Devices;

namespace Hashall.PowerShell.Catalog
{
    /// <summary>Queries catalogued files by path (wildcards), hash, device and status.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallFile", DefaultParameterSetName = "Path")]
    [OutputType(typeof(HashallFile))]
    public sealed class GetHashallFileCommand : HashallCmdlet
    {
        private readonly DeviceLocator _locator = new DeviceLocator();
        private FileQuery? _query;
        private Hashall.Core.Catalog.CatalogDatabase? _queryCatalog;

        private static readonly Regex HexHash = new Regex("^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$", RegexOptions.CultureInvariant);

        /// <summary>Files or directories (everything under them); wildcards allowed; need not exist any more.</summary>
        [Parameter(ParameterSetName = "Path", Position = 0, ValueFromPipeline = true)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        /// <summary>Like -Path, taken literally ('[' and ']' are common in release names); FullName of piped objects binds here.</summary>
        [Parameter(ParameterSetName = "LiteralPath", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath", "LP")]
        public string[]? LiteralPath { get; set; }

        /// <summary>SHA-1 (40 hex digits), SHA-256 or quick hash (64 / 40 hex digits).</summary>
        [Parameter]
        public string[]? Hash { get; set; }

        /// <summary>Devices by alias, id or path.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("DeviceId")]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string[]? Device { get; set; }

        /// <summary>Include files marked deleted (gone from a scanned root).</summary>
        [Parameter]
        public SwitchParameter IncludeDeleted { get; set; }

        protected override void Process()
        {
            var hashes = new List<string>();
            foreach (var hash in Hash ?? Array.Empty<string>())
            {
                if (!HexHash.IsMatch(hash))
                    throw new HashallException("HashInvalid", HashallErrorKind.InvalidArgument,
                        $"'{hash}' is not a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) hash.", hash);
                hashes.Add(hash.ToLowerInvariant());
            }
            // One query object per catalog for the whole pipeline: piped files would otherwise reload
            // the device list for every object.
            if (_query == null || _queryCatalog != Catalog)
            {
                _queryCatalog = Catalog;
                _query = new FileQuery(_queryCatalog);
            }
            var query = _query;
            var locator = _locator;
            var store = new DeviceStore(Catalog);
            var deviceIds = new HashSet<long>((Device ?? Array.Empty<string>()).Select(d => store.Resolve(d, locator, register: false).DeviceId));

            var paths = LiteralPath ?? Path;
            if (paths == null || paths.Length == 0)
            {
                var scopes = query.Devices.Where(d => deviceIds.Contains(d.DeviceId)).Select(d => new CatalogScope(d, "")).ToList();
                WriteFiles(query.Files(scopes, hashes, IncludeDeleted), null);
                return;
            }
            foreach (var path in paths)
            {
                string full = ResolvePath(path);
                bool wildcard = LiteralPath == null && WildcardPattern.ContainsWildcardCharacters(full);
                string literal = wildcard ? LiteralDirectory(full) : full;
                var scope = query.ScopeOf(literal, locator);
                if (scope == null || (deviceIds.Count > 0 && !deviceIds.Contains(scope.Device.DeviceId)))
                {
                    WriteHashallError(new HashallException("PathNotCatalogued", HashallErrorKind.NotFound,
                        $"No catalogued device holds '{full}'" + (deviceIds.Count > 0 ? " among the devices named" : "") + ".", path));
                    continue;
                }
                var pattern = wildcard ? new WildcardPattern(full, WildcardOptions.CultureInvariant) : null;
                WriteFiles(query.Files(new[] { scope }, hashes, IncludeDeleted), pattern);
            }
        }

        private void WriteFiles(IEnumerable<HashallFile> files, WildcardPattern? pattern)
        {
            foreach (var file in files)
            {
                if (StopToken.IsCancellationRequested)
                    return;
                if (pattern == null || pattern.IsMatch(file.FullName))
                    WriteObject(file);
            }
        }

        /// <summary>The directory part of a wildcard path before its first wildcard character.</summary>
        private static string LiteralDirectory(string path)
        {
            int first = path.IndexOfAny(new[] { '*', '?', '[' });
            int slash = path.LastIndexOfAny(new[] { '/', '\\' }, Math.Max(0, first));
            return slash <= 0 ? path.Substring(0, Math.Max(1, slash + 1)) : path.Substring(0, slash);
        }
    }
}
