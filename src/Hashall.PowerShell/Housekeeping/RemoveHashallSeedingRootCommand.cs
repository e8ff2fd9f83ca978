using System.Management.Automation;
using Hashall.Core;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>Removes a seeding root from the catalog's stored setting (nothing on disk changes).</summary>
    [Cmdlet(VerbsCommon.Remove, "HashallSeedingRoot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(void))]
    public sealed class RemoveHashallSeedingRootCommand : HashallCmdlet
    {
        /// <summary>Stored roots to remove, as Get-HashallSeedingRoot shows them.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(SeedingRootCompleter))]
        public string[] Path { get; set; } = System.Array.Empty<string>();

        protected override void Process()
        {
            foreach (string given in Path)
            {
                string path = ResolvePath(given);
                string root = SeedingRootStore.Normalize(path);
                if (!ShouldProcess(root, $"Remove seeding root from catalog '{CatalogPath}'"))
                    continue;
                if (!new SeedingRootStore(Catalog).Remove(path))
                    WriteHashallError(new HashallException("SeedingRootNotStored", HashallErrorKind.NotFound,
                        $"'{root}' is not a seeding root of catalog '{CatalogPath}' (Get-HashallSeedingRoot lists them).", root));
            }
        }
    }
}
