using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hashall.Core.Rehome
{
    /// <summary>The JSON form of rehome plans (New-RehomePlan -OutFile, Invoke-RehomePlan -Path, the journal), enums as names.</summary>
    public static class RehomePlanFile
    {
        private static readonly JsonSerializerOptions Options = new JsonSerializerOptions
        {
            WriteIndented = true,
            Converters = { new JsonStringEnumConverter() },
        };

        public static string Serialize(IEnumerable<RehomePlan> plans) => JsonSerializer.Serialize(plans.ToList(), Options);

        /// <summary>Throws RehomePlanFileInvalid when the text is not a JSON array of plans.</summary>
        public static List<RehomePlan> Deserialize(string json, string? source = null)
        {
            try
            {
                var plans = (JsonSerializer.Deserialize<List<RehomePlan?>>(json, Options) ?? new List<RehomePlan?>()).ToList();
                if (plans.Any(p => p == null))
                    throw new JsonException("the array holds a null where a plan belongs");
                // Lists written as null by hand become empty, so validation reports them instead of crashing.
                foreach (var plan in plans)
                {
                    plan!.Reasons ??= new List<string>();
                    plan.SeedingRoots ??= new List<string>();
                    plan.Torrents ??= new List<RehomeTorrent>();
                    plan.ExternalLinks ??= new List<string>();
                    plan.Links ??= new List<RehomeLink>();
                    plan.Name ??= "";
                    plan.SourcePath ??= "";
                    plan.TargetPath ??= "";
                    plan.TargetSavePath ??= "";
                    if (plan.Torrents.Any(t => t == null))
                        throw new JsonException($"the plan '{plan.Name}' lists a null torrent");
                    if (plan.Links.Any(l => l == null))
                        throw new JsonException($"the plan '{plan.Name}' lists a null link");
                    foreach (var t in plan.Torrents)
                    {
                        t.SourcePath ??= "";
                        t.TargetPath ??= "";
                        t.Layout ??= "";
                    }
                }
                return plans!;
            }
            catch (JsonException e)
            {
                throw new HashallException("RehomePlanFileInvalid", HashallErrorKind.InvalidData,
                    $"{(source != null ? $"'{source}'" : "The text")} is not a rehome plan file (a JSON array from New-RehomePlan -OutFile): {e.Message}", source, e);
            }
        }
    }
}
