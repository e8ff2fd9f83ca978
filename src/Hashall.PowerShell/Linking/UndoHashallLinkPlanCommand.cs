using System;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Linking;
using Hashall.PowerShell.Formatting;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Undoes executed hard-link plans: each linked path gets its own copy back, with its own owner, permissions and mtime.</summary>
    [Cmdlet(VerbsCommon.Undo, "HashallLinkPlan", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(LinkUndoResult))]
    public sealed class UndoHashallLinkPlanCommand : LinkPlanIdCmdlet, ILinkUndoObserver
    {
        private const string Activity = "Hashall link undo";

        /// <summary>Only linked paths matching these wildcards (full paths; a folder without wildcards takes everything under it).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        protected override void Process()
        {
            var filter = PathPatterns.Any(Path, ResolvePath);
            foreach (var id in Id)
            {
                if (!IsStored(id))
                    continue;
                try
                {
                    var result = new LinkUndoer(Catalog).Undo(id, filter, this, StopToken);
                    WriteProgress(new ProgressRecord(2, Activity, "Done") { RecordType = ProgressRecordType.Completed });
                    if (result.Message != null)
                        WriteWarning(result.Message);
                    foreach (var reason in result.Reasons.Take(20))
                        WriteVerbose(reason);
                    WriteObject(result);
                }
                catch (HashallException e) when (e.ErrorId == "LinkPlanBusy" || e.ErrorId == "LinkPlanNotFound" || e.ErrorId == "LinkUndoNotEnoughSpace")
                {
                    WriteHashallError(e); // one plan's problem does not stop the others
                }
                catch (OperationCanceledException)
                {
                    return; // Ctrl+C: what was undone is recorded; undoing the plan again resumes
                }
            }
        }

        bool ILinkUndoObserver.ShouldUndo(LinkAction action, LinkActionPath path) =>
            ShouldProcess($"'{path.FullName}'", $"Give back its own copy of '{action.Canonical}' ({ByteSize.Format(action.Size)})");

        void ILinkUndoObserver.Progress(long bytesDone, long bytesTotal, string current) =>
            WriteProgress(new ProgressRecord(2, Activity, $"{ByteSize.Format(bytesDone)} of {ByteSize.Format(bytesTotal)} copied back")
            {
                PercentComplete = bytesTotal > 0 ? (int)Math.Min(100, bytesDone * 100 / bytesTotal) : 100,
                CurrentOperation = current,
            });
    }
}
