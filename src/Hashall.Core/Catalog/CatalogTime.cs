using System;
using System.Globalization;

namespace Hashall.Core.Catalog
{
    /// <summary>Timestamps in the catalog: ISO 8601 UTC text with 100 ns precision (sorts as text).</summary>
    public static class CatalogTime
    {
        private const string Format_ = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

        public static string Format(DateTime utc) => utc.ToUniversalTime().ToString(Format_, CultureInfo.InvariantCulture);

        public static DateTime Parse(string text) =>
            DateTime.ParseExact(text, Format_, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

        public static DateTime? ParseOrNull(object? value) => value is string s ? Parse(s) : (DateTime?)null;
    }
}
