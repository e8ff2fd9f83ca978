using System.ComponentModel;

namespace Hashall.Core.Platform
{
    /// <summary>
    /// The words for a system error code, for every message a user sees: errno on Linux and macOS
    /// (strerror: 40 is "Too many levels of symbolic links"), a Win32 error on Windows (FormatMessage).
    /// Never show a bare number.
    /// </summary>
    public static class SystemErrors
    {
        /// <summary>The system's text for <paramref name="error"/>, e.g. "No space left on device".</summary>
        public static string Describe(int error)
        {
            // Win32Exception asks the platform: strerror on Unix (.NET Core), FormatMessage on Windows.
            string text = new Win32Exception(error).Message.Trim().TrimEnd('.');
            return text.Length == 0 ? $"unknown system error {error}" : text;
        }
    }
}
