using NetArchTest.Rules;
using Taidon.Core.Accounts;

namespace Taidon.Tests.Architecture;

public sealed class LayerRulesTests
{
    private static readonly string[] InfrastructurePackages =
    [
        "Microsoft.EntityFrameworkCore",
        "Npgsql",
        "k8s",
        "LibGit2Sharp",
        "Hangfire",
        "MudBlazor",
        "Microsoft.AspNetCore",
    ];

    [Fact]
    public void CoreReachesForNoInfrastructurePackage()
    {
        foreach (var package in InfrastructurePackages)
        {
            var result = Types.InAssembly(typeof(TaidonRoles).Assembly).ShouldNot().HaveDependencyOn(package).GetResult();

            Assert.True(result.IsSuccessful, $"Taidon.Core must not use {package}, but these types do: {string.Join(", ", result.FailingTypeNames ?? [])}");
        }
    }

    [Fact]
    public void CoreReferencesNoOtherProject()
    {
        var result = Types.InAssembly(typeof(TaidonRoles).Assembly)
            .ShouldNot().HaveDependencyOnAny("Taidon.Infrastructure", "Taidon.Web")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Taidon.Core must not use the outer layers: {string.Join(", ", result.FailingTypeNames ?? [])}");
        Assert.DoesNotContain(typeof(TaidonRoles).Assembly.GetReferencedAssemblies(), a => a.Name!.StartsWith("Taidon.", StringComparison.Ordinal));
    }

    [Fact]
    public void InfrastructureDoesNotReachForTheWebLayer()
    {
        var result = Types.InAssembly(typeof(Taidon.Infrastructure.DependencyInjection).Assembly)
            .ShouldNot().HaveDependencyOnAny("Taidon.Web", "MudBlazor")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Taidon.Infrastructure must not use the web layer: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void TheRuleCatchesAViolation()
    {
        // Guards the guard: the same rule fails for an assembly that does use EF Core.
        var result = Types.InAssembly(typeof(Taidon.Infrastructure.DependencyInjection).Assembly)
            .ShouldNot().HaveDependencyOn("Microsoft.EntityFrameworkCore")
            .GetResult();

        Assert.False(result.IsSuccessful);
    }

    /// <summary>Where the web layer is wired to the adapters: the one place it may name them.</summary>
    private static readonly string[] Wiring = ["Program", "Taidon.Web.DependencyInjection"];

    /// <summary>The account pages' Identity user (an IdentityUser, so it cannot live in Core).</summary>
    private const string IdentityUser = "Taidon.Infrastructure.Identity.TaidonUser";

    private static string WebAssembly => typeof(Taidon.Web.DependencyInjection).Assembly.Location;

    [Fact]
    public void TheWebLayerSpeaksToCoreAndReachesInfrastructureOnlyWhereItIsWired()
    {
        var arrows = AssemblyReferences.UsesOf(WebAssembly, "Taidon.Infrastructure")
            .Where(u => !Wiring.Contains(u.User) && u.Used != IdentityUser)
            .Select(u => $"{u.User} -> {u.Used}")
            .ToList();

        Assert.True(arrows.Count == 0, "Taidon.Web may use Taidon.Infrastructure only in its wiring (Program, DependencyInjection) and for the account pages' TaidonUser; these use it elsewhere:\n" + string.Join("\n", arrows));
    }

    [Fact]
    public void TheWebRuleSeesReferencesInMethodBodiesAndLambdas()
    {
        // Guards the guard: the wiring uses the adapters inside method bodies alone (a call in the
        // top-level statements, a registration's generic argument), and the same reading finds both.
        var uses = AssemblyReferences.UsesOf(WebAssembly, "Taidon.Infrastructure");

        Assert.Contains(("Program", "Taidon.Infrastructure.DependencyInjection"), uses);
        Assert.Contains(("Taidon.Web.DependencyInjection", IdentityUser), uses);
    }
}
