//! Area and iteration trees ("classification nodes") of each project, and
//! the resolution of the `System.AreaPath` / `System.IterationPath` a work
//! item write names.
//!
//! Sources: the 7.1 spec (`Classification Nodes_Get Root Nodes`, `_Get`,
//! `_Create Or Update`, `WorkItemClassificationNode`); Microsoft Learn
//! "Define area paths" / "Define iteration paths" (every project has one
//! root area and one root iteration named after it; new work items go to
//! the roots unless a path is given); Microsoft's `PATCH` examples, which
//! write `System.AreaPath` and `System.IterationPath` as `Project\Child`
//! and get 200; ADO's refusal of a path that names no node, `TF401347:
//! Invalid tree name given for work item {id}, field '{field}'.` (400, -1
//! on create), as public reports quote it (e.g. solidify/
//! jira-azuredevops-migrator#1143, ni/grpc-device#1241).

use serde_json::{Map, Value, json};

/// `Areas` or `Iterations`, the two structure groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Areas,
    Iterations,
}

impl Group {
    /// The group of a route segment (`areas`, `Iterations`; no case).
    pub fn parse(s: &str) -> Option<Group> {
        if s.eq_ignore_ascii_case("areas") {
            Some(Group::Areas)
        } else if s.eq_ignore_ascii_case("iterations") {
            Some(Group::Iterations)
        } else {
            None
        }
    }

    /// The group a tree-path field names.
    pub fn of_field(reference: &str) -> Option<Group> {
        if reference.eq_ignore_ascii_case("System.AreaPath") {
            Some(Group::Areas)
        } else if reference.eq_ignore_ascii_case("System.IterationPath") {
            Some(Group::Iterations)
        } else {
            None
        }
    }

    /// `System.AreaId` / `System.IterationId`, which ADO keeps beside the path.
    pub fn id_field(self) -> &'static str {
        match self {
            Group::Areas => "System.AreaId",
            Group::Iterations => "System.IterationId",
        }
    }

    fn segment(self) -> &'static str {
        match self {
            Group::Areas => "Areas",
            Group::Iterations => "Iterations",
        }
    }

    /// The node paths' second segment ("\\Proj\\Area\\Child").
    fn path_word(self) -> &'static str {
        match self {
            Group::Areas => "Area",
            Group::Iterations => "Iteration",
        }
    }

    fn structure_type(self) -> &'static str {
        match self {
            Group::Areas => "area",
            Group::Iterations => "iteration",
        }
    }
}

/// One node and its children.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: i32,
    pub identifier: String,
    pub name: String,
    /// Iterations' `startDate` / `finishDate`, as written.
    pub attributes: Option<Map<String, Value>>,
    pub children: Vec<Node>,
}

impl Node {
    fn new(id: i32, name: &str) -> Node {
        Node {
            id,
            identifier: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            attributes: None,
            children: vec![],
        }
    }
}

/// The two trees of a project.
#[derive(Debug, Clone)]
pub struct Trees {
    pub areas: Node,
    pub iterations: Node,
}

impl Trees {
    /// A project's roots, named after it, with ids from `next_id`.
    pub fn seed(project: &str, next_id: &mut i32) -> Trees {
        *next_id += 1;
        let areas = Node::new(*next_id, project);
        *next_id += 1;
        let iterations = Node::new(*next_id, project);
        Trees { areas, iterations }
    }

    pub fn root(&self, group: Group) -> &Node {
        match group {
            Group::Areas => &self.areas,
            Group::Iterations => &self.iterations,
        }
    }

    pub fn root_mut(&mut self, group: Group) -> &mut Node {
        match group {
            Group::Areas => &mut self.areas,
            Group::Iterations => &mut self.iterations,
        }
    }

    /// The node a route's relative path names (`""` is the root), segments
    /// matched without case.
    pub fn find(&self, group: Group, relative: &str) -> Option<&Node> {
        let mut node = self.root(group);
        for seg in segments(relative) {
            node = node
                .children
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(seg))?;
        }
        Some(node)
    }

    fn find_mut(&mut self, group: Group, relative: &str) -> Option<&mut Node> {
        let mut node = self.root_mut(group);
        for seg in segments(relative) {
            node = node
                .children
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(seg))?;
        }
        Some(node)
    }

    /// A work item field's value (`Proj` or `Proj\A\B`): the node's id and
    /// its path spelt as the tree spells it; `None` when no node has it.
    pub fn resolve(&self, group: Group, value: &str) -> Option<(i32, String)> {
        let mut parts = value.split('\\');
        let root = self.root(group);
        if !parts.next()?.eq_ignore_ascii_case(&root.name) {
            return None;
        }
        let rest: Vec<&str> = parts.collect();
        if rest.iter().any(|s| s.is_empty()) {
            return None;
        }
        let node = self.find(group, &rest.join("\\"))?;
        let mut spelt = vec![root.name.clone()];
        let mut walk = root;
        for seg in &rest {
            walk = walk
                .children
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(seg))?;
            spelt.push(walk.name.clone());
        }
        Some((node.id, spelt.join("\\")))
    }

    /// The work item path of a node id, for a write of `System.AreaId`.
    pub fn path_of(&self, group: Group, id: i32) -> Option<String> {
        fn walk(n: &Node, id: i32, trail: &mut Vec<String>) -> bool {
            trail.push(n.name.clone());
            if n.id == id || n.children.iter().any(|c| walk(c, id, trail)) {
                return true;
            }
            trail.pop();
            false
        }
        let mut trail = Vec::new();
        walk(self.root(group), id, &mut trail).then(|| trail.join("\\"))
    }

    /// Adds `name` under the node at `parent`; `Err` names why not.
    pub fn create(
        &mut self,
        group: Group,
        parent: &str,
        name: &str,
        attributes: Option<Map<String, Value>>,
        next_id: &mut i32,
    ) -> Result<Node, CreateError> {
        if name.trim().is_empty()
            || name.contains([
                '\\', '/', '$', '?', '*', ':', '"', '&', '>', '<', '#', '%', '|', '+',
            ])
        {
            return Err(CreateError::BadName);
        }
        let node = self.find_mut(group, parent).ok_or(CreateError::NoParent)?;
        if node
            .children
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(name))
        {
            return Err(CreateError::Exists);
        }
        *next_id += 1;
        let mut child = Node::new(*next_id, name);
        child.attributes = attributes;
        node.children.push(child.clone());
        Ok(child)
    }
}

/// Why a node could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateError {
    NoParent,
    Exists,
    BadName,
}

fn segments(relative: &str) -> impl Iterator<Item = &str> {
    relative
        .split(['/', '\\'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A node as the REST API returns it (`WorkItemClassificationNode`), with
/// children down to `depth` levels. `trail` is the node's names from the root.
pub fn node_json(
    project_url: &str,
    group: Group,
    node: &Node,
    trail: &[String],
    depth: u32,
) -> Value {
    let relative = trail[1..].join("/");
    let url = if relative.is_empty() {
        format!(
            "{project_url}/_apis/wit/classificationNodes/{}",
            group.segment()
        )
    } else {
        format!(
            "{project_url}/_apis/wit/classificationNodes/{}/{}",
            group.segment(),
            relative
                .split('/')
                .map(|s| s.replace(' ', "%20"))
                .collect::<Vec<_>>()
                .join("/")
        )
    };
    let mut path = format!("\\{}\\{}", trail[0], group.path_word());
    for seg in &trail[1..] {
        path.push('\\');
        path.push_str(seg);
    }
    let mut v = json!({
        "id": node.id,
        "identifier": node.identifier,
        "name": node.name,
        "structureType": group.structure_type(),
        "hasChildren": !node.children.is_empty(),
        "path": path,
        "url": url,
    });
    if let Some(a) = &node.attributes {
        v["attributes"] = Value::Object(a.clone());
    }
    if depth > 0 && !node.children.is_empty() {
        let children: Vec<Value> = node
            .children
            .iter()
            .map(|c| {
                let mut t = trail.to_vec();
                t.push(c.name.clone());
                node_json(project_url, group, c, &t, depth - 1)
            })
            .collect();
        v["children"] = Value::Array(children);
    }
    v
}

/// The names from the root to the node at `relative` (spelt as stored).
pub fn trail(trees: &Trees, group: Group, relative: &str) -> Option<Vec<String>> {
    let mut node = trees.root(group);
    let mut out = vec![node.name.clone()];
    for seg in segments(relative) {
        node = node
            .children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(seg))?;
        out.push(node.name.clone());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trees() -> Trees {
        let mut next = 0;
        let mut t = Trees::seed("Fabrikam", &mut next);
        t.create(Group::Areas, "", "Website", None, &mut next)
            .unwrap();
        t.create(Group::Areas, "Website", "Login", None, &mut next)
            .unwrap();
        t
    }

    #[test]
    fn a_path_resolves_without_case_to_the_trees_spelling() {
        let t = trees();
        let (id, path) = t.resolve(Group::Areas, "fabrikam\\WEBSITE\\login").unwrap();
        assert_eq!(path, "Fabrikam\\Website\\Login");
        assert_eq!(
            t.path_of(Group::Areas, id).as_deref(),
            Some("Fabrikam\\Website\\Login")
        );
        assert_eq!(t.resolve(Group::Areas, "Fabrikam").unwrap().1, "Fabrikam");
    }

    #[test]
    fn a_path_naming_no_node_or_another_tree_does_not_resolve() {
        let t = trees();
        assert!(t.resolve(Group::Areas, "Fabrikam\\Nope").is_none());
        assert!(t.resolve(Group::Areas, "Other\\Website").is_none());
        assert!(t.resolve(Group::Areas, "Fabrikam\\").is_none());
        assert!(t.resolve(Group::Iterations, "Fabrikam\\Website").is_none());
    }

    #[test]
    fn a_sibling_with_the_same_name_is_refused() {
        let mut t = trees();
        let mut next = 100;
        assert_eq!(
            t.create(Group::Areas, "", "website", None, &mut next)
                .unwrap_err(),
            CreateError::Exists
        );
        assert_eq!(
            t.create(Group::Areas, "Nope", "X", None, &mut next)
                .unwrap_err(),
            CreateError::NoParent
        );
    }
}
