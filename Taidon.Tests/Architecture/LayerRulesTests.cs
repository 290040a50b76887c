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
}
