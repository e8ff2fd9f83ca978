using System.Management.Automation;
using Hashall.Core.Payloads;

namespace Hashall.PowerShell.Housekeeping
{
    /// <summary>Stores a seeding root in the catalog: a directory that holds seeding data.</summary>
    [Cmdlet(VerbsCommon.Add, "HashallSeedingRoot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(HashallSeedingRoot))]
    public sealed class AddHashallSeedingRootCommand : HashallCmdlet
    {
        /// <summary>Directories that hold seeding data (torrent save paths, cross-seed link folders).</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        public string[] Path { get; set; } = System.Array.Empty<string>();

        protected override void Process()
        {
            foreach (string given in Path)
            {
                string root = SeedingRootStore.Normalize(ResolvePath(given));
                if (!ShouldProcess(root, $"Add seeding root to catalog '{CatalogPath}'"))
                    continue;
                try
                {
                    WriteObject(new SeedingRootStore(Catalog).Add(root));
                }
                catch (Hashall.Core.HashallException e) when (e.ErrorId == "SeedingRootNotFound")
                {
                    WriteHashallError(e);
                }
            }
        }
    }
}
