namespace Taidon.Core.SqlChain;

/// <summary>The engine the installation's instances run, which every chain key includes (the runtime's settings say which).</summary>
public interface IEngineIdentitySource
{
    EngineIdentity Identity { get; }
}
