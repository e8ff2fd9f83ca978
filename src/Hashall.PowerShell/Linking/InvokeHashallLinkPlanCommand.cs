using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Linking;
using Hashall.PowerShell.Formatting;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Executes link plans: verified, atomic, resumable replacement of duplicates by hard links, or sharing of their blocks (Clone plans).</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "HashallLinkPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(LinkResult))]
    public sealed class InvokeHashallLinkPlanCommand : LinkPlanIdCmdlet, ILinkObserver
    {
        private const string Activity = "Hashall link";

        /// <summary>Bytes (default): compare every duplicate with its canonical file byte for byte. Hash: trust the catalog's SHA-1.</summary>
        [Parameter]
        public LinkVerification Verify { get; set; } = LinkVerification.Bytes;

        /// <summary>Link even when owner, group or permissions of the two files differ.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>At most this many actions (duplicate inodes) per plan in this run; a later run continues.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int Limit { get; set; }

        /// <summary>At most this many bytes of duplicates per plan in this run (the first action always runs); a later run continues.</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue)]
        public long MaximumBytes { get; set; }

        protected override void Process()
        {
            foreach (var id in Id)
            {
                if (!IsStored(id))
                    continue;
                try
                {
                    var result = new LinkExecutor(Catalog).Execute(id, new LinkOptions
                    {
                        Verify = Verify, Force = Force,
                        Limit = MyInvocation.BoundParameters.ContainsKey(nameof(Limit)) ? Limit : (int?)null,
                        MaximumBytes = MyInvocation.BoundParameters.ContainsKey(nameof(MaximumBytes)) ? MaximumBytes : (long?)null,
                    }, this, StopToken);
                    WriteProgress(new ProgressRecord(1, Activity, "Done") { RecordType = ProgressRecordType.Completed });
                    foreach (var reason in result.Reasons.Take(20))
                        WriteVerbose(reason);
                    if (result.Limited)
                        WriteVerbose($"Link plan {id}: -Limit/-MaximumBytes reached; the rest stays pending; run it again to continue.");
                    WriteObject(result);
                }
                catch (HashallException e) when (e.ErrorId is "LinkPlanBusy" or "LinkPlanNotFound" or "CloneNotSupported" or "LinkPlanUndone")
                {
                    WriteHashallError(e); // one plan's problem does not stop the others
                }
                catch (OperationCanceledException)
                {
                    return; // Ctrl+C: what was linked is recorded; running the plan again resumes it
                }
            }
        }

        bool ILinkObserver.ShouldLink(LinkAction action)
        {
            var paths = action.Paths.Where(p => p.Status == "pending").ToList();
            string target = paths.Count == 1 ? $"'{paths[0].FullName}'" : $"{paths.Count} paths of one inode ('{paths[0].FullName}', ...)";
            return action.Method == LinkMethod.Clone
                ? ShouldProcess(target, $"Share the blocks of '{action.Canonical}' ({ByteSize.Format(action.Size)}, the kernel compares them first)")
                : ShouldProcess(target, $"Replace with a hard link to '{action.Canonical}' ({ByteSize.Format(action.Size)})");
        }

        void ILinkObserver.Progress(long bytesDone, long bytesTotal, string current) =>
            WriteProgress(new ProgressRecord(1, Activity, $"{ByteSize.Format(bytesDone)} of {ByteSize.Format(bytesTotal)} linked")
            {
                PercentComplete = bytesTotal > 0 ? (int)(bytesDone * 100 / bytesTotal) : 100,
                CurrentOperation = current,
            });
    }
}
