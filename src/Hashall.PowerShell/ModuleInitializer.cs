using System;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;

namespace Hashall.PowerShell
{
    /// <summary>
    /// Windows PowerShell 5.1 has no resolver for native libraries in a module folder: load the
    /// module's own e_sqlite3.dll by full path before SQLite is first used, so the DllImport binds
    /// to it. PowerShell 7 finds &lt;module dir&gt;/&lt;rid&gt;/e_sqlite3.* itself.
    /// </summary>
    public sealed class ModuleInitializer : IModuleAssemblyInitializer
    {
        [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        private static extern IntPtr LoadLibraryW(string path);

        public void OnImport()
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                return;
            string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "win-arm64" : "win-x64";
            string dir = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? ".";
            string library = Path.Combine(Path.Combine(dir, rid), "e_sqlite3.dll");
            if (LoadLibraryW(library) == IntPtr.Zero)
            {
                int error = Marshal.GetLastWin32Error();
                throw new DllNotFoundException($"Hashall could not load its SQLite library '{library}': {Hashall.Core.Platform.SystemErrors.Describe(error)}.");
            }
        }
    }
}
