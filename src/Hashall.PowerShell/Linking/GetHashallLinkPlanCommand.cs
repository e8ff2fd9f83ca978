using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Devices;
using Hashall.Core.Linking;
using Hashall.PowerShell.Devices;

namespace Hashall.PowerShell.Linking
{
    /// <summary>Lists link plans with their progress, or (-Action) a plan's actions.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallLinkPlan")]
    [OutputType(typeof(LinkPlan), typeof(LinkAction))]
    public sealed class GetHashallLinkPlanCommand : HashallCmdlet
    {
        /// <summary>Plan ids; default: all plans.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PlanId")]
        [ArgumentCompleter(typeof(LinkPlanCompleter))]
        public long[]? Id { get; set; }

        /// <summary>Only plans of these devices (alias, id or path).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(DeviceCompleter))]
        public string[]? Device { get; set; }

        /// <summary>Only plans in these states.</summary>
        [Parameter]
        [ValidateSet("pending", "running", "incomplete", "done", "partial", "undone", "partially-undone", IgnoreCase = true)]
        public string[]? Status { get; set; }

        /// <summary>Write the plans' actions (each duplicate inode, its paths and their outcome) instead of the plans.</summary>
        [Parameter]
        public SwitchParameter Action { get; set; }

        protected override void Process()
        {
            var store = new LinkPlanStore(Catalog);
            IEnumerable<LinkPlan> plans;
            if (Id != null && Id.Length > 0)
            {
                var found = new List<LinkPlan>();
                foreach (var id in Id)
                {
                    var plan = store.Find(id, withActions: false);
                    if (plan != null)
                        found.Add(plan);
                    else
                        WriteHashallError(new HashallException("LinkPlanNotFound", HashallErrorKind.NotFound, $"No link plan with id {id} in catalog '{Catalog.Path}'.", id));
                }
                plans = found;
            }
            else
            {
                plans = store.List();
            }
            if (Device != null)
            {
                var locator = new DeviceLocator();
                var devices = new DeviceStore(Catalog);
                var ids = new HashSet<long>(Device.Select(d => devices.Resolve(d, locator, register: false).DeviceId));
                plans = plans.Where(p => ids.Contains(p.DeviceId));
            }
            if (Status != null)
                plans = plans.Where(p => Status.Contains(p.Status, StringComparer.OrdinalIgnoreCase));
            foreach (var plan in plans)
            {
                if (Action)
                {
                    foreach (var action in store.StreamActions(plan))
                    {
                        if (StopToken.IsCancellationRequested)
                            return;
                        WriteObject(action);
                    }
                }
                else
                    WriteObject(plan);
            }
        }
    }
}
