using System.Collections;
using System.IO;
using Hashall.Core;
using Hashall.Core.Catalog;

namespace Hashall.PowerShell
{
    /// <summary>The catalog an argument completer reads: the one -Database names, else the default; never created just to complete a name.</summary>
    internal static class CompletionCatalog
    {
        public static CatalogDatabase? TryOpen(IDictionary fakeBoundParameters)
        {
            var (path, _) = CatalogLocation.Resolve(fakeBoundParameters["Database"] as string);
            if (!File.Exists(path))
                return null;
            try
            {
                return CatalogDatabase.Open(path);
            }
            catch (HashallException)
            {
                return null; // an unreadable catalog offers nothing to complete; the command itself will say why
            }
        }
    }
}
