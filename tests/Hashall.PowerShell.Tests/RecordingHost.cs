using System.Text;
using Hashall.HostedShell;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// Records what the host is told: -WhatIf messages and Out-Default's formatted output reach only
/// the host UI, never a stream.
/// </summary>
public sealed class RecordingHost
{
    private readonly StringBuilder _text = new();

    public RecordingHost() => Host = new TextHost(Append);

    public TextHost Host { get; }

    public string Text { get { lock (_text) return _text.ToString(); } }

    public void Clear() { lock (_text) _text.Clear(); }

    private void Append(string text) { lock (_text) _text.Append(text); }
}
