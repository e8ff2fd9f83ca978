namespace Hashall.Core.Devices
{
    /// <summary>What a device selector named: a catalogued device, or a path on a filesystem not catalogued yet.</summary>
    public sealed class DeviceMatch
    {
        public DeviceMatch(HashallDevice? device, LocatedPath? path)
        {
            Device = device;
            Path = path;
        }

        public HashallDevice? Device { get; }
        /// <summary>The located path, when the selector was a path.</summary>
        public LocatedPath? Path { get; }
        public LocatedPath? Uncatalogued => Device == null ? Path : null;
    }
}
