using System.Linq;
using System.Management.Automation;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>Lists the seeding roots stored in the catalog.</summary>
    [Cmdlet(VerbsCommon.Get, "HashallSeedingRoot")]
    [OutputType(typeof(HashallSeedingRoot))]
    public sealed class GetHashallSeedingRootCommand : HashallCmdlet
    {
        /// <summary>Only roots whose path matches; wildcards allowed.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SeedingRootCompleter))]
        public string[]? Path { get; set; }

        protected override void Process()
        {
            var patterns = Path?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
            foreach (var root in new SeedingRootStore(Catalog).List())
                if (patterns == null || patterns.Any(p => p.IsMatch(root.Path)))
                    WriteObject(root);
        }
    }
}
