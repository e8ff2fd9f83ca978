using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace Hashall.PowerShell.Tests;

/// <summary>
/// A PSHost that records what it is told: -WhatIf messages and Out-Default's formatted output reach
/// only the host UI, never a stream.
/// </summary>
public sealed class RecordingHost : PSHost
{
    private readonly RecordingUI _ui = new();

    public string Text => _ui.Text;
    public void Clear() => _ui.Clear();

    public override string Name => "HashallTestHost";
    public override Version Version => new(1, 0);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface UI => _ui;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) { }

    private sealed class RecordingUI : PSHostUserInterface
    {
        private readonly StringBuilder _text = new();
        private readonly RawUI _raw = new();

        public string Text { get { lock (_text) return _text.ToString(); } }
        public void Clear() { lock (_text) _text.Clear(); }

        public override PSHostRawUserInterface RawUI => _raw;
        // Custom hosts get VT styling even with OutputRendering PlainText: keep only the text.
        public override void Write(string value) { lock (_text) _text.Append(Ansi.Replace(value, "")); }
        private static readonly System.Text.RegularExpressions.Regex Ansi = new("\x1b\\[[0-9;?]*[A-Za-z]");
        public override void Write(ConsoleColor fg, ConsoleColor bg, string value) => Write(value);
        public override void WriteLine(string value) => Write(value + "\n");
        public override void WriteErrorLine(string value) => Write("ERROR: " + value + "\n");
        public override void WriteDebugLine(string message) => Write("DEBUG: " + message + "\n");
        public override void WriteVerboseLine(string message) => Write("VERBOSE: " + message + "\n");
        public override void WriteWarningLine(string message) => Write("WARNING: " + message + "\n");
        public override void WriteProgress(long sourceId, ProgressRecord record) { }
        public override string ReadLine() => throw new NotSupportedException("The test host cannot prompt.");
        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("The test host cannot prompt.");
        public override Dictionary<string, PSObject> Prompt(string caption, string message, System.Collections.ObjectModel.Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException("The test host cannot prompt: " + message);
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException("The test host cannot prompt.");
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new NotSupportedException("The test host cannot prompt.");
        public override int PromptForChoice(string caption, string message, System.Collections.ObjectModel.Collection<ChoiceDescription> choices, int defaultChoice) =>
            throw new NotSupportedException("The test host cannot prompt: " + message);
    }

    private sealed class RawUI : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; }
        public override ConsoleColor ForegroundColor { get; set; }
        public override Size BufferSize { get; set; } = new(160, 9999);
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new(160, 100);
        public override Size MaxWindowSize => new(160, 100);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get; set; } = new(160, 100);
        public override string WindowTitle { get; set; } = "";
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException();
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    }
}
