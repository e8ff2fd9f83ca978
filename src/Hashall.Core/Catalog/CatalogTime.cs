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
            TryParseFixed(text, out var fast) ? fast
            : DateTime.ParseExact(text, Format_, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

        /// <summary>
        /// The catalog's own format read digit by digit (a query of duplicates reads two per file, and
        /// ParseExact costs more than the rest of the row); anything else goes to ParseExact.
        /// </summary>
        private static bool TryParseFixed(string t, out DateTime value)
        {
            value = default;
            if (t.Length != 28 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' || t[27] != 'Z')
                return false;
            int year = Digits(t, 0, 4), month = Digits(t, 5, 2), day = Digits(t, 8, 2), hour = Digits(t, 11, 2), minute = Digits(t, 14, 2),
                second = Digits(t, 17, 2), fraction = Digits(t, 20, 7);
            if ((year | month | day | hour | minute | second | fraction) < 0 || year < 1 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
                return false;
            value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).AddTicks(fraction);
            return true;
        }

        /// <summary>The decimal number of <paramref name="count"/> digits at <paramref name="at"/>; -1 (or less) when one is not a digit.</summary>
        private static int Digits(string t, int at, int count)
        {
            int n = 0;
            for (int i = at; i < at + count; i++)
            {
                int d = t[i] - '0';
                if (d < 0 || d > 9)
                    return int.MinValue;
                n = n * 10 + d;
            }
            return n;
        }

        public static DateTime? ParseOrNull(object? value) => value is string s ? Parse(s) : (DateTime?)null;
    }
}
