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
                return JsonSerializer.Deserialize<List<RehomePlan>>(json, Options) ?? new List<RehomePlan>();
            }
            catch (JsonException e)
            {
                throw new HashallException("RehomePlanFileInvalid", HashallErrorKind.InvalidData,
                    $"{(source != null ? $"'{source}'" : "The text")} is not a rehome plan file (a JSON array from New-RehomePlan -OutFile): {e.Message}", source, e);
            }
        }
    }
}
