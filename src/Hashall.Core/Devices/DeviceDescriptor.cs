using Hashall.Core.Platform;

namespace Hashall.Core.Devices
{
    /// <summary>A filesystem as found on this system now: its stable identity and where it is mounted.</summary>
    public sealed class DeviceDescriptor
    {
        public DeviceDescriptor(string identity, DeviceIdentityKind identityKind, MountEntry mount)
        {
            Identity = identity;
            IdentityKind = identityKind;
            Mount = mount;
        }

        public string Identity { get; }
        public DeviceIdentityKind IdentityKind { get; }
        public MountEntry Mount { get; }
    }
}
