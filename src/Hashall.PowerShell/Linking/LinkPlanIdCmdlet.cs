using System;
using System.Management.Automation;
using Hashall.Core;

namespace Hashall.PowerShell.Linking
{
    /// <summary>What Invoke- and Undo-HashallLinkPlan share: the plans they act on, by id, and the refusal of a plan never stored.</summary>
    public abstract class LinkPlanIdCmdlet : HashallCmdlet
    {
        /// <summary>Plans to act on; plans from New-/Get-HashallLinkPlan bind by their PlanId.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PlanId")]
        [ArgumentCompleter(typeof(LinkPlanCompleter))]
        public long[] Id { get; set; } = Array.Empty<long>();

        /// <summary>
        /// False, with a LinkPlanNotStored error, for the id of a plan that was only previewed (New-HashallLinkPlan
        /// -WhatIf gives PlanId 0): it was never stored, so "no link plan with id 0" would mislead.
        /// </summary>
        protected bool IsStored(long id)
        {
            if (id > 0)
                return true;
            WriteHashallError(new HashallException("LinkPlanNotStored", HashallErrorKind.InvalidArgument,
                "This plan is a preview (made with -WhatIf) and was never stored: run New-HashallLinkPlan without -WhatIf.", id));
            return false;
        }
    }
}
