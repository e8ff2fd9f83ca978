using System;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace Hashall.PowerShell
{
    /// <summary>
    /// Lets a TimeSpan parameter take what people type: a TimeSpan, a number of days (30, or PowerShell's
    /// 30d, which is the decimal 30), "12h", "90m", "45s", "2w", "1.5d", or TimeSpan text ("7.00:00:00").
    /// Without it a bare 30 would bind as 30 ticks.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
    {
        private static readonly Regex Unit = new Regex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>w|d|h|m|s)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            var span = Parse(inputData);
            // A negative span makes every age pass (-OlderThan -1 would empty every run of a recycle bin).
            if (span < TimeSpan.Zero)
                throw new ArgumentTransformationMetadataException(
                    $"'{inputData}' is a negative duration: give zero or more (a TimeSpan, a number of days, or a number and unit such as 12h).");
            return span;
        }

        private static TimeSpan Parse(object inputData)
        {
            object value = inputData is PSObject pso ? pso.BaseObject : inputData;
            switch (value)
            {
                case TimeSpan span:
                    return span;
                case int or long or double or decimal or float or short or byte:
                    return TimeSpan.FromDays(Convert.ToDouble(value, CultureInfo.InvariantCulture));
                case string text:
                    var m = Unit.Match(text);
                    if (m.Success)
                    {
                        double n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
                        return m.Groups["u"].Value.ToLowerInvariant() switch
                        {
                            "w" => TimeSpan.FromDays(7 * n),
                            "d" => TimeSpan.FromDays(n),
                            "h" => TimeSpan.FromHours(n),
                            "m" => TimeSpan.FromMinutes(n),
                            _ => TimeSpan.FromSeconds(n),
                        };
                    }
                    if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double days))
                        return TimeSpan.FromDays(days);
                    if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
                        return parsed;
                    break;
            }
            throw new ArgumentTransformationMetadataException(
                $"'{inputData}' is not a duration: give a TimeSpan, a number of days (30), or a number and unit (12h, 90m, 2w).");
        }
    }
}
