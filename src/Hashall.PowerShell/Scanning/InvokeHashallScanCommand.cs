using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Scanning;
using Hashall.PowerShell.Formatting;

namespace Hashall.PowerShell.Scanning
{
    /// <summary>Catalogs every regular file under the given roots: incremental, parallel, hard-link aware.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "HashallScan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(ScanResult))]
    public sealed class InvokeHashallScanCommand : HashallCmdlet, IScanObserver
    {
        private readonly List<string> _roots = new List<string>();

        /// <summary>Directories (or files) to scan; directory objects from Get-ChildItem bind by path.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName", "PSPath")]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Full, Quick (sample hashes only) or Candidates (quick, then full hashes for duplicate candidates).</summary>
        [Parameter]
        public ScanMode Mode { get; set; } = ScanMode.Full;

        /// <summary>Full hashes to compute: SHA1 (always) and SHA256.</summary>
        [Parameter]
        [ValidateSet("SHA1", "SHA256", IgnoreCase = true)]
        public string[] Algorithm { get; set; } = { "SHA1" };

        /// <summary>Files hashed at once; default: one per core.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        /// <summary>Also walk filesystems mounted under a root (each as its own device).</summary>
        [Parameter]
        public SwitchParameter CrossMount { get; set; }

        protected override void Process()
        {
            foreach (var path in Path)
            {
                string full = ResolvePath(path);
                if (ShouldProcess(full, $"Scan into catalog '{CatalogPath}'"))
                    _roots.Add(full);
            }
        }

        protected override void End()
        {
            if (_roots.Count == 0)
                return;
            var options = new ScanOptions
            {
                Mode = Mode,
                Algorithms = Algorithm.Any(a => a.Equals("SHA256", StringComparison.OrdinalIgnoreCase)) ? HashAlgorithms.Sha1 | HashAlgorithms.Sha256 : HashAlgorithms.Sha1,
                ThrottleLimit = ThrottleLimit,
                CrossMounts = CrossMount,
            };
            var result = new Scanner(Catalog, options, this).Run(_roots, StopToken);
            WriteProgress(new ProgressRecord(ProgressId, Activity, "Done") { RecordType = ProgressRecordType.Completed });
            WriteObject(result);
        }

        private const int ProgressId = 1;
        private const string Activity = "Hashall scan";

        void IScanObserver.Progress(ScanProgress p)
        {
            string status = $"{p.FilesSeen:N0} files found, {p.FilesHashed:N0} of {p.FilesToHash:N0} read, "
                + $"{ByteSize.Format(p.BytesHashed)} of {ByteSize.Format(p.BytesToHash)} at {ByteSize.Format((long)p.BytesPerSecond)}/s";
            WriteProgress(new ProgressRecord(ProgressId, Activity, status)
            {
                PercentComplete = p.Percent,
                SecondsRemaining = p.SecondsRemaining,
                CurrentOperation = p.CurrentPath,
            });
        }

        void IScanObserver.Error(HashallException error) => WriteHashallError(error);

        void IScanObserver.NestedMount(string path, bool crossed) =>
            WriteWarning(crossed ? $"Crossing into the filesystem mounted at '{path}'." : $"Not crossing into the filesystem mounted at '{path}' (use -CrossMount to scan it too).");
    }
}
